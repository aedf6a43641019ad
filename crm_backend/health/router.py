"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
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
