"""One customer across channels: Messenger first, the website widget later, one CRM record.

The customer proves who they are on each channel with an order number and its email. The
CRM then holds one customer with both channel identities, and both conversations (stored
from Rasa's event stream) are linked to that customer.
"""

from __future__ import annotations

import queue
import time
import uuid
from typing import Any

import socketio

from tests.e2e.conftest import RunningStack
from tests.e2e.fake_platforms import FakePlatforms
from tests.e2e.test_social_channels import (
    messenger_event,
    messenger_signature,
    messenger_text,
    new_psid,
    post_messenger,
    to_psid,
)


def an_order_with_a_customer(stack: RunningStack) -> dict[str, Any]:
    """A delivered seeded order of a registered customer, from the end of the list other tests start at."""
    with stack.crm() as crm:
        page = crm.get("/api/orders", params={"status": "delivered", "limit": 100}).json()
        for summary in reversed(page["items"]):
            order: dict[str, Any] = crm.get(f"/api/orders/{summary['number']}").json()
            if order["customer_id"] is not None:
                return order
    raise AssertionError("the demo data has no delivered order of a registered customer")


def messenger_says(stack: RunningStack, platforms: FakePlatforms, psid: str, text: str) -> str:
    """Send one Messenger message; the bot's new replies, joined."""
    before = len(platforms.matching(to_psid(psid)))
    response = post_messenger(stack, body := messenger_event(psid, text), messenger_signature(body))
    assert response.status_code == 200
    # The webhook answers after the bot's turn, so its replies have all been sent.
    return " ".join(messenger_text(c) for c in platforms.matching(to_psid(psid))[before:])


class WidgetCustomer:
    """The website widget's side of Rasa's socket.io channel, with a persistent session."""

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

    def say(self, text: str, *, expect: str) -> str:
        """Send a message and collect replies until one contains `expect`."""
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})
        seen: list[str] = []
        while not any(expect in reply for reply in seen):
            seen.append(str(self.replies.get(timeout=30).get("text", "")))
        return " ".join(seen)

    def close(self) -> None:
        self.client.disconnect()


def test_messenger_then_widget_with_the_same_email_is_one_customer(
    running_stack: RunningStack, platforms: FakePlatforms
):
    order = an_order_with_a_customer(running_stack)
    psid = new_psid()

    messenger_says(running_stack, platforms, psid, "where is my order?")
    messenger_says(running_stack, platforms, psid, order["number"])
    on_messenger = messenger_says(running_stack, platforms, psid, order["email"])
    widget = WidgetCustomer(running_stack.config.rasa_url)
    try:
        widget.say("where is my order?", expect="order number")
        widget.say(order["number"], expect="email")
        in_widget = widget.say(order["email"], expect=order["number"])
    finally:
        widget.close()

    assert order["number"] in on_messenger
    assert order["number"] in in_widget
    with running_stack.crm() as crm:
        customer = crm.get(f"/api/customers/{order['customer_id']}").json()
        identities = {(i["channel"], i["external_id"]) for i in customer["identities"]}
        assert {("messenger", psid), ("web", widget.session_id)} <= identities
        assert order["email"] in customer["emails"]
        # The CRM stores the conversations from Rasa's event stream, a moment after the turns.
        deadline = time.monotonic() + 30
        while True:
            linked = crm.get(
                "/api/conversations", params={"customer_id": customer["id"], "limit": 100}
            ).json()
            mine = {c["sender_id"]: c for c in linked["items"] if c["sender_id"] in (psid, widget.session_id)}
            if len(mine) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert set(mine) == {psid, widget.session_id}
        assert (mine[psid]["channel"], mine[widget.session_id]["channel"]) == ("messenger", "web")
        messages = crm.get(f"/api/conversations/{psid}/messages").json()["items"]
    assert "where is my order?" in [m["text"] for m in messages if m["author"] == "customer"]
