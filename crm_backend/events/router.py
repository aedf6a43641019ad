"""GET /api/live: the WebSocket that streams live updates to agent consoles."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_backend.agents import repository as agents
from crm_backend.auth.tokens import read_agent_token
from crm_backend.events.live import LivePublisher

logger = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

# Close codes (4000-4999 are the application's own).
UNAUTHORIZED = 4401
UNAVAILABLE = 1013  # "try again later": live updates are off (no Redis configured)


async def get_session_factory(websocket: WebSocket) -> async_sessionmaker[AsyncSession]:
    """The app's session factory (a WebSocket must not hold one transaction for its lifetime)."""
    factory: async_sessionmaker[AsyncSession] = websocket.app.state.session_factory
    return factory


SessionFactoryDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_session_factory)]


async def _is_active_agent(factory: async_sessionmaker[AsyncSession], token: str, secret: str) -> bool:
    claims = read_agent_token(token, secret=secret)
    if claims is None:
        return False
    async with factory() as session:
        agent = await agents.get(session, claims.agent_id)
        return agent is not None and agent.is_active


@router.websocket("/api/live")
async def live(
    websocket: WebSocket,
    factory: SessionFactoryDep,
    token: Annotated[str, Query(max_length=4096, description="An agent token from /api/auth/login")] = "",
) -> None:
    """Live updates for agent consoles, one JSON text frame per event.

    Authenticate with `?token=<agent token>`; an invalid or expired token, or a deactivated
    agent, closes the socket with code 4401; without Redis (live updates off) it closes with
    1013. The first frame is `{"type": "live.ready"}`: from then on every event arrives. Events
    (published after the change is committed, by whichever CRM process made it, through Redis
    pub/sub):

    - `{"type": "message.created", "sender_id": str, "message": MessageRead}`
    - `{"type": "handoff.changed", "handoff": HandoffItem}` (created, claimed, transferred,
      released, resolved, abandoned, rated)
    - `{"type": "conversation.changed", "sender_id": str, "status": str}`
    """
    await websocket.accept()
    if not await _is_active_agent(factory, token, websocket.app.state.settings.secret_key):
        await websocket.close(code=UNAUTHORIZED, reason="a valid agent token is required")
        return
    publisher: LivePublisher | None = getattr(websocket.app.state, "live", None)
    if publisher is None:
        await websocket.close(code=UNAVAILABLE, reason="live updates are off (no CRM_REDIS_URL)")
        return
    pubsub = publisher.redis.pubsub(ignore_subscribe_messages=True)
    # Anything the client sends is ignored; reading is how a disconnect is noticed.
    watcher = asyncio.create_task(_until_disconnect(websocket))
    try:
        await pubsub.subscribe(publisher.channel)
        await websocket.send_json({"type": "live.ready"})
        while not watcher.done():
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message.get("type") == "message":
                data = message["data"]
                await websocket.send_text(data.decode() if isinstance(data, bytes) else str(data))
    except (WebSocketDisconnect, RuntimeError):
        pass  # the console went away mid-send
    except RedisError as error:
        logger.warning("live updates: Redis failed (%s); closing the socket", error)
        with suppress(RuntimeError):
            await websocket.close(code=UNAVAILABLE, reason="live updates interrupted; reconnect")
    finally:
        watcher.cancel()
        with suppress(asyncio.CancelledError):
            await watcher
        await pubsub.aclose()  # type: ignore[no-untyped-call]


async def _until_disconnect(websocket: WebSocket) -> None:
    with suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_text()
