"""The agent console: one HTML page and its static files, all served by the CRM at /console."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from crm_backend.core.errors import NotFound

STATIC_DIR = Path(__file__).parent / "static"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
# Only files that exist when the CRM starts are served: no path from the URL reaches the disk.
ASSETS = {p.name: p for p in STATIC_DIR.iterdir() if p.suffix in MEDIA_TYPES}
# Scripts and styles from this origin only, no inline code: a customer's message that
# slipped into the page as markup still could not run (the console renders text anyway).
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
NO_CACHE = {"Cache-Control": "no-cache"}

# Not API operations: kept out of the OpenAPI document (and so out of the API fuzzing).
router = APIRouter(tags=["console"], include_in_schema=False)


class ConsoleAssetNotFound(NotFound):
    error = "console_asset_not_found"


@router.get("/console")
@router.get("/console/")
async def console_page() -> FileResponse:
    """The console page (login, queue, conversation, customer panel)."""
    headers = {
        **NO_CACHE,
        "Content-Security-Policy": PAGE_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=headers)


@router.get("/console/static/{name}")
async def console_asset(name: Annotated[str, PathParam(max_length=100)]) -> FileResponse:
    """A script or stylesheet of the console."""
    path = ASSETS.get(name)
    if path is None:
        raise ConsoleAssetNotFound(f"No console file named {name!r}.")
    headers = {**NO_CACHE, "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=headers)
