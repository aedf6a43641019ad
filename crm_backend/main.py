"""The FastAPI application: build it with `create_app()`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from crm_backend.core.config import Settings, get_settings
from crm_backend.core.database import create_engine, create_session_factory
from crm_backend.core.errors import install_error_handlers
from crm_backend.core.middleware import BodySizeLimit
from crm_backend.health.router import router as health_router
from crm_backend.orders.router import router as orders_router

API_DESCRIPTION = """
The system of record behind the support assistant: customers, orders and
(in later releases) tickets, conversations and handoffs.

Authenticate with `Authorization: Bearer <CRM_SERVICE_TOKEN>`.
Every error has the body `{"error": <code>, "detail": <explanation>}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; tests pass their own settings, servers read the environment."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.async_database_url, echo=settings.sql_echo)
        app.state.engine = engine
        app.state.session_factory = create_session_factory(engine)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Support CRM",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(health_router)
    app.include_router(orders_router)
    return app
