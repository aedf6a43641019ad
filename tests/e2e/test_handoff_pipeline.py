"""Handoff end to end on the real stack: widget channel (socket.io) → Rasa → event stream → CRM.

A customer asks for a person, an agent claims and replies (the reply reaches the socket),
the customer writes while the bot is paused (it reaches the CRM and the console live), the
agent hands back and the bot answers again; the CRM holds the whole conversation in order,
once.
"""

from __future__ import annotations

import json
import queue
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
import socketio
from websockets.sync.client import ClientConnection, connect

from crm_backend.rasa.client import BACK_WITH_THE_BOT
from tests.e2e.conftest import RunningStack

T = TypeVar("T")
AGENT = {"email": "agent@example.com", "password": "agent-demo-password"}


def wait_for(fetch: Callable[[], T | None], what: str, timeout: float = 30) -> T:
    """Poll until `fetch` returns something."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fetch()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class WidgetCustomer:
    """A customer on Rasa's socket.io channel with session persistence, as the widget talks."""

    def __init__(self, rasa_url: str) -> None:
        self.session_id = uuid.uuid4().hex
        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        confirmed: queue.Queue[Any] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", confirmed.put)
        self.client.connect(rasa_url, transports=["websocket"], wait_timeout=10)
        self.client.emit("session_request", {"session_id": self.session_id})
        confirmed.get(timeout=10)

    def say(self, text: str) -> None:
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})

    def next_reply(self, timeout: float = 30) -> str:
        return str(self.replies.get(timeout=timeout).get("text") or "")

    def reply_containing(self, words: str, timeout: float = 30) -> str:
        """Skip replies until one contains `words`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            text = self.next_reply(left)
            if words in text:
                return text
        raise AssertionError(f"no reply containing {words!r}")

    def drain(self) -> list[str]:
        texts = []
        while not self.replies.empty():
            texts.append(str(self.replies.get().get("text") or ""))
        return texts


class Console:
    """An agent logged in to the CRM with a live-updates socket open."""

    def __init__(self, stack: RunningStack) -> None:
        self.http = httpx.Client(base_url=stack.config.crm_url, timeout=30)
        login = self.http.post("/api/auth/login", json=AGENT)
        login.raise_for_status()
        token = login.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.http.put("/api/agents/me/presence", json={"is_online": True}).raise_for_status()
        ws_url = stack.config.crm_url.replace("http://", "ws://")
        self.live_url = f"{ws_url}/api/live?token={token}"
        self.live: ClientConnection | None = None

    def attach(self, live: ClientConnection) -> None:
        """Use this live-updates socket, once it is subscribed."""
        self.live = live
        assert self.next_event() == {"type": "live.ready"}

    def next_event(self, timeout: float = 30) -> dict[str, Any]:
        assert self.live is not None
        event: dict[str, Any] = json.loads(self.live.recv(timeout=timeout))
        return event

    def event_matching(self, match: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict[str, Any]:
        """Skip live events (other tests' too) until one matches."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            event = self.next_event(left)
            if match(event):
                return event
        raise AssertionError("no matching live event")

    def close(self) -> None:
        self.http.put("/api/agents/me/presence", json={"is_online": False})
        self.http.close()


@pytest.fixture
def widget_customer(running_stack: RunningStack) -> Iterator[WidgetCustomer]:
    customer = WidgetCustomer(running_stack.config.rasa_url)
    yield customer
    customer.client.disconnect()


@pytest.fixture
def console(running_stack: RunningStack) -> Iterator[Console]:
    console = Console(running_stack)
    try:
        with connect(console.live_url) as live:
            console.attach(live)
            yield console
    finally:
        console.close()


def messages_in_crm(console: Console, sender_id: str) -> list[dict[str, Any]]:
    response = console.http.get(f"/api/conversations/{sender_id}/messages", params={"limit": 200})
    if response.status_code == 404:
        return []
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_handoff_from_request_to_hand_back(
    running_stack: RunningStack, widget_customer: WidgetCustomer, console: Console
):
    sender = widget_customer.session_id
    for_me = lambda event: event.get("sender_id", event.get("handoff", {}).get("sender_id")) == sender  # noqa: E731

    widget_customer.say("hello")
    assert "support assistant" in widget_customer.next_reply()
    widget_customer.say("I want to talk to a human")
    widget_customer.reply_containing("queue")

    # 1. The handoff reaches the console live, with the customer's request before it.
    created = console.event_matching(lambda e: e["type"] == "handoff.changed" and for_me(e))
    handoff = created["handoff"]
    assert (handoff["status"], handoff["reason"], handoff["channel"]) == (
        "waiting",
        "customer_request",
        "web",
    )
    history = wait_for(lambda: messages_in_crm(console, sender)[:2] or None, "the history in the CRM")
    assert [m["text"] for m in history] == ["hello", history[1]["text"]]
    assert history[1]["author"] == "bot"

    # 2. The agent claims and replies; the reply reaches the customer's socket.
    console.http.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
    widget_customer.drain()
    reply = console.http.post(
        f"/api/handoffs/{handoff['id']}/messages", json={"text": "Hi, Alex here. How can I help?"}
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["author"] == "agent"
    assert widget_customer.reply_containing("Alex here") == "Hi, Alex here. How can I help?"

    # 3. The customer writes while the bot is paused: no bot answer, the console sees it live.
    widget_customer.say("my parcel never arrived")
    live_message = console.event_matching(
        lambda e: e["type"] == "message.created" and for_me(e) and e["message"]["author"] == "customer"
        and e["message"]["text"] == "my parcel never arrived"
    )  # fmt: skip
    assert live_message["message"]["channel"] == "web"
    # A card number never reaches the CRM: the event broker removes it on Rasa's side.
    widget_customer.say("I paid with 4111 1111 1111 1111")
    redacted = console.event_matching(
        lambda e: e["type"] == "message.created" and for_me(e) and e["message"]["author"] == "customer"
        and e["message"]["text"].startswith("I paid with")
    )  # fmt: skip
    assert redacted["message"]["text"] == "I paid with [card number removed]"
    assert widget_customer.drain() == []  # the bot stayed quiet

    # 4. Hand back: the customer is told, and the bot answers again.
    console.http.post(f"/api/handoffs/{handoff['id']}/release").raise_for_status()
    assert widget_customer.reply_containing("back with the assistant") == BACK_WITH_THE_BOT
    widget_customer.say("hello")
    assert "support assistant" in widget_customer.next_reply()

    # 5. The whole conversation is in the CRM, in order, each message once.
    def complete() -> list[dict[str, Any]] | None:
        messages = messages_in_crm(console, sender)
        return (
            messages
            if sum(m["text"] == "hello" for m in messages) == 2 and messages[-1]["author"] == "bot"
            else None
        )

    messages = wait_for(complete, "the conversation after the hand-back")
    said = [(m["author"], m["text"]) for m in messages if m["author"] in ("customer", "agent")]
    assert said == [
        ("customer", "hello"),
        ("customer", "I want to talk to a human"),
        ("agent", "Hi, Alex here. How can I help?"),
        ("customer", "my parcel never arrived"),
        ("customer", "I paid with [card number removed]"),
        ("customer", "hello"),
    ]
    assert len({m["event_id"] for m in messages}) == len(messages)
    texts = [m["text"] for m in messages]
    assert texts.index("Hi, Alex here. How can I help?") < texts.index(BACK_WITH_THE_BOT)
    assert texts.count(BACK_WITH_THE_BOT) == 1
    agent_message = next(m for m in messages if m["author"] == "agent")
    assert agent_message["agent_id"] is not None
    assert all(m["channel"] == "web" for m in messages)
    with running_stack.crm() as crm:
        conversation = crm.get(f"/api/conversations/{sender}").json()
    assert conversation["status"] == "active"
    assert conversation["message_count"] == len(messages)

    # Rasa's tracker has the agent's reply too, with the CRM's id for it.
    with running_stack.rasa() as rasa:
        events = rasa.get(f"/conversations/{sender}/tracker").json()["events"]
    agent_lines = [e for e in events if e["event"] == "bot" and e.get("metadata", {}).get("agent_id")]
    assert [e["metadata"]["crm_event_id"] for e in agent_lines] == [agent_message["event_id"]]


def test_closing_asks_the_customer_for_a_rating(
    running_stack: RunningStack, widget_customer: WidgetCustomer, console: Console
):
    sender = widget_customer.session_id
    widget_customer.say("I want to talk to a human")
    widget_customer.reply_containing("queue")
    handoff = console.event_matching(
        lambda e: e["type"] == "handoff.changed" and e["handoff"]["sender_id"] == sender
    )["handoff"]
    console.http.post(f"/api/handoffs/{handoff['id']}/claim").raise_for_status()
    widget_customer.drain()

    resolved = console.http.post(f"/api/handoffs/{handoff['id']}/resolve")

    assert resolved.status_code == 200, resolved.text
    deadline = time.monotonic() + 30
    while (question := widget_customer.replies.get(timeout=deadline - time.monotonic())).get("text") != (
        "How satisfied are you with the help you got? (1 = not at all, 5 = very)"
    ):
        pass
    payloads = [button["payload"] for button in question["quick_replies"]]
    assert payloads == [f'/rate_service{{"csat_score": {n}}}' for n in range(1, 6)]
    closed = console.event_matching(
        lambda e: e["type"] == "handoff.changed" and e["handoff"]["id"] == handoff["id"]
        and e["handoff"]["status"] == "resolved"
    )  # fmt: skip
    assert closed["handoff"]["resolved_at"] is not None
