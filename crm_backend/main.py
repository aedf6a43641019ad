"""The FastAPI application: build it with `create_app()`."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from fastapi import FastAPI

from crm_backend.agents.router import auth_router
from crm_backend.agents.router import router as agents_router
from crm_backend.audit.router import router as audit_router
from crm_backend.canned.router import router as canned_router
from crm_backend.console.router import router as console_router
from crm_backend.conversations.router import router as conversations_router
from crm_backend.core.config import Settings, get_settings
from crm_backend.core.database import create_engine, create_session_factory
from crm_backend.core.errors import install_error_handlers
from crm_backend.core.middleware import RequestGuard
from crm_backend.customers.router import router as customers_router
from crm_backend.events import runtime as pipeline_runtime
from crm_backend.events.router import router as live_router
from crm_backend.faq.indexing import build_at_startup
from crm_backend.faq.router import router as faq_router
from crm_backend.handoffs.router import router as handoffs_router
from crm_backend.health.router import router as health_router
from crm_backend.idempotency.retention import keep_pruning
from crm_backend.orders.router import router as orders_router
from crm_backend.tickets.router import router as tickets_router
from crm_backend.widget.router import router as widget_router
from faq.search import ANSWER_THRESHOLD, LiveIndex

API_DESCRIPTION = """
The system of record behind the support assistant: customers and their channel
identities, orders, returns and refunds, tickets, every conversation message,
handoffs to agents, agents, FAQ articles and the audit log.

Authenticate with `Authorization: Bearer <token>`: the service token (`CRM_SERVICE_TOKEN`,
for the bot's action server and integrations) or an agent token from `POST /api/auth/login`.
Retryable writes accept an `Idempotency-Key` header. Lists take `limit` and `offset`.
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
        # Everything loaded so far lives as long as the process: move it out of the
        # garbage collector's sight, so full collections don't stall requests (p99).
        gc.collect()
        gc.freeze()
        # Rasa's event stream in, live updates out, the Rasa client (each off when unconfigured).
        pipeline = await pipeline_runtime.start(app, settings, app.state.session_factory)
        index_build: asyncio.Task[None] | None = None
        if settings.faq_index_on_startup:
            # In the background: the CRM answers at once, and a search that comes first
            # waits for this build (it holds the index's write lock) instead of repeating it.
            index_build = asyncio.create_task(
                build_at_startup(app.state.session_factory, app.state.faq_index)
            )
        pruning = asyncio.create_task(
            keep_pruning(
                app.state.session_factory,
                retention=timedelta(hours=settings.idempotency_retention_hours),
                every_seconds=settings.idempotency_prune_seconds,
            )
        )
        try:
            yield
        finally:
            for task in (index_build, pruning):
                if task is not None:
                    task.cancel()
                    with suppress(asyncio.CancelledError):
                        await task
            await pipeline.stop()
            await engine.dispose()

    app = FastAPI(
        title="Support CRM",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    threshold = settings.faq_answer_threshold
    app.state.faq_index = LiveIndex(threshold=ANSWER_THRESHOLD if threshold is None else threshold)
    install_error_handlers(app)
    app.add_middleware(RequestGuard, max_bytes=settings.max_body_bytes)
    for router in (
        health_router,
        # Right after /livez: routes are tried in order and the bot's order lookup is the hottest.
        orders_router,
        auth_router,
        agents_router,
        customers_router,
        tickets_router,
        conversations_router,
        handoffs_router,
        canned_router,
        console_router,
        faq_router,
        audit_router,
        widget_router,
        live_router,
    ):
        app.include_router(router)
    return app
