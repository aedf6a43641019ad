"""Annotated dependency aliases shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.core.config import Settings
from crm_backend.core.database import ReadOnlyDatabase, transactional_session


async def get_app_settings(request: Request) -> Settings:
    """The settings the running app was built with (async: a sync dependency would cost a thread hop)."""
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request."""
    # `async with`, not `async for`: an exception thrown into this generator must reach
    # the context manager at once, so the rollback happens before the error response.
    async with transactional_session(request.app.state.session_factory) as session:
        yield session


async def get_read_only_database(request: Request) -> ReadOnlyDatabase:
    """Reads outside the request's transaction (see ReadOnlyDatabase); opens no session."""
    state = request.app.state
    database: ReadOnlyDatabase | None = getattr(state, "read_only_database", None)
    if database is None:
        # One per app, on the engine its lifespan creates (looked up when first used).
        database = ReadOnlyDatabase(lambda: (state.engine, state.session_factory))
        state.read_only_database = database
    return database


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
# scope="function": the transaction commits (or rolls back) as soon as the endpoint
# returns, before the response is sent, so a client never sees a 200 for a write that
# then fails to commit, and its next request always sees the write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadOnlyDatabaseDep = Annotated[ReadOnlyDatabase, Depends(get_read_only_database)]
