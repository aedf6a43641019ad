"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from crm_backend.core.dependencies import SessionDep

router = APIRouter(tags=["health"])


@router.get("/livez")
async def livez() -> dict[str, str]:
    """Alive when the process answers; touches nothing else, so a slow database never restarts it."""
    return {"status": "ok"}


@router.get("/healthz")
async def healthz(session: SessionDep) -> JSONResponse:
    """Healthy when the database answers."""
    try:
        await session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready", never a 500 trace
        return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/readyz")
async def readyz(request: Request, session: SessionDep) -> JSONResponse:
    """Ready to serve customers: the database answers and the FAQ search index is built.

    The index is built in the background at start-up (loading the model, encoding new
    articles); until it is, a search would wait seconds, longer than the bot may.
    """
    body: dict[str, object] = {"status": "ok", "database": "ok"}
    try:
        await session.execute(text("SELECT 1"))
    except Exception as exc:
        body.update(status="unavailable", database=type(exc).__name__)
    index = request.app.state.faq_index
    body["faq_index"] = "ready" if index.loaded else "building"
    body["faq_articles"] = len(index.snapshot)
    if request.app.state.settings.faq_index_on_startup and not index.loaded:
        body["status"] = "unavailable"
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
