"""The widget's routes: the script, the demo page and the development-only demo sign-in."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from crm_backend.core.dependencies import SessionDep, SettingsDep
from crm_backend.widget import service
from crm_backend.widget.schemas import DemoTokenRead

# Not API operations: kept out of the OpenAPI document (and so out of the API fuzzing).
router = APIRouter(tags=["widget"], include_in_schema=False)

# Revalidate on every load (ETag): a rebuilt widget reaches customers at once.
NO_CACHE = {"Cache-Control": "no-cache"}


@router.get("/widget.js")
async def widget_script(settings: SettingsDep) -> FileResponse:
    """The built widget; 503 until `make setup` has built it."""
    path = service.widget_bundle(settings)
    return FileResponse(path, media_type="text/javascript", headers=NO_CACHE)


@router.get("/demo")
async def demo_page(settings: SettingsDep) -> HTMLResponse:
    """A demo shop page with the widget on it."""
    headers = {**NO_CACHE, "Content-Security-Policy": service.demo_page_policy(settings)}
    return HTMLResponse(service.demo_page(settings), headers=headers)


@router.get("/demo/demo.js")
async def demo_script() -> Response:
    """The demo page's sign-in switch."""
    return Response(service.demo_script(), media_type="text/javascript", headers=NO_CACHE)


@router.post("/demo/token")
async def demo_token(session: SessionDep, settings: SettingsDep) -> DemoTokenRead:
    """A signed token for the demo customer (development only: anyone may call it)."""
    return await service.issue_demo_token(session, settings=settings)
