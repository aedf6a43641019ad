"""What the widget customer sees of the agent: joined/left notices and the typing indicator."""

from __future__ import annotations

import queue
from typing import Any

from crm_backend.rasa.client import BACK_WITH_THE_BOT
from tests.e2e.conftest import RunningStack
from tests.e2e.test_handoff_pipeline import (
    Console,
    WidgetCustomer,
    console,
    messages_in_crm,
    wait_for,
    widget_customer,
)

__all__ = ["console", "widget_customer"]  # fixtures shared with test_handoff_pipeline.py


def _queued_handoff(widget_customer: WidgetCustomer, console: Console) -> dict[str, Any]:
    sender = widget_customer.session_id
    widget_customer.say("I want to talk to a human")
    widget_customer.reply_containing("queue")
    event = console.event_matching(
        lambda e: e["type"] == "handoff.changed" and e["handoff"]["sender_id"] == sender
    )
    handoff: dict[str, Any] = event["handoff"]
    return handoff


def _next_raw(widget_customer: WidgetCustomer, timeout: float = 30) -> dict[str, Any]:
    return widget_customer.replies.get(timeout=timeout)


def test_the_customer_is_told_who_joined_sees_typing_and_is_told_when_they_leave(
    running_stack: RunningStack, widget_customer: WidgetCustomer, console: Console
):
    typing: queue.Queue[dict[str, Any]] = queue.Queue()
    widget_customer.client.on("agent_typing", typing.put)
    handoff = _queued_handoff(widget_customer, console)
    widget_customer.drain()

    console.http.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()

    # The socket.io message the widget's handoffChange() reads (widget/src/messages.js).
    assert _next_raw(widget_customer) == {"handoff": {"agent_name": "Alex", "state": "joined"}}

    with running_stack.rasa() as rasa:
        before = len(rasa.get(f"/conversations/{widget_customer.session_id}/tracker").json()["events"])
    for on in (True, False):
        response = console.http.post(f"/api/handoffs/{handoff['id']}/typing", json={"typing": on})
        assert response.status_code == 204, response.text
        assert typing.get(timeout=10) == {"typing": on}
    with running_stack.rasa() as rasa:
        after = len(rasa.get(f"/conversations/{widget_customer.session_id}/tracker").json()["events"])
    assert after == before  # typing is never recorded

    console.http.post(f"/api/handoffs/{handoff['id']}/release").raise_for_status()
    assert _next_raw(widget_customer) == {"handoff": {"agent_name": "Alex", "state": "left"}}
    assert widget_customer.next_reply() == BACK_WITH_THE_BOT

    # The CRM keeps each notice once, as a system message, in its place in the conversation.
    def notices() -> list[dict[str, Any]] | None:
        messages = messages_in_crm(console, widget_customer.session_id)
        found = [m for m in messages if m["author"] == "system"]
        return messages if len(found) == 2 and messages[-1]["text"] == BACK_WITH_THE_BOT else None

    messages = wait_for(notices, "both notices in the CRM")
    system = [m for m in messages if m["author"] == "system"]
    assert [m["text"] for m in system] == [
        "Alex from our team has joined the chat.",
        "Alex has left the chat.",
    ]
    assert [m["payload"]["handoff"]["state"] for m in system] == ["joined", "left"]
    assert len({m["event_id"] for m in messages}) == len(messages)
    assert not any(m["author"] == "customer" and "joined" in m["text"] for m in messages)


def test_the_typing_route_needs_rasas_token(running_stack: RunningStack):
    with running_stack.rasa() as rasa:
        refused = rasa.post(
            "/webhooks/socketio/typing", params={"token": "wrong"}, json={"sender_id": "x", "typing": True}
        )
        bad = rasa.post("/webhooks/socketio/typing", json={"sender_id": "x", "typing": "yes"})

    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthorized"
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_typing"
