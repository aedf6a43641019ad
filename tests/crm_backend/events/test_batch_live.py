"""A batch of messages is announced on /api/live like single messages: each new one, in order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents.models import Agent
from crm_backend.core.config import Settings
from tests.crm_backend.conftest import agent_token
from tests.crm_backend.events.test_live import live_url, next_event, open_console

__all__ = ["live_url"]  # the fixture, shared with test_live.py


async def test_a_batch_announces_each_new_message_in_order(
    live_url: str, settings: Settings, agent: Agent, session: AsyncSession, client
):
    console = await open_console(live_url, agent_token(settings, agent))
    batch = [
        {"event_id": f"b-{n}", "author": "customer", "channel": "web", "text": f"message {n}"}
        for n in range(3)
    ]
    try:
        first = await client.post("/api/conversations/batch-sender/messages/batch", json=batch)
        again = await client.post(
            "/api/conversations/batch-sender/messages/batch",
            json=[
                *batch[1:],
                {"event_id": "b-3", "author": "customer", "channel": "web", "text": "message 3"},
            ],
        )
        events = [await next_event(console) for _ in range(4)]
    finally:
        await console.close()

    assert first.json() == {"stored": 3, "duplicates": 0}
    assert again.json() == {"stored": 1, "duplicates": 2}
    assert [e["type"] for e in events] == ["message.created"] * 4
    assert [e["message"]["text"] for e in events] == [f"message {n}" for n in range(4)]
    assert {e["sender_id"] for e in events} == {"batch-sender"}
