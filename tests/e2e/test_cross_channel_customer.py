"""One customer across channels: Messenger first, the website widget later, one CRM record.

The customer proves who they are on each channel with an order number and its email. The
CRM then holds one customer with both channel identities, and both conversations (stored
from Rasa's event stream) are linked to that customer.
"""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.conftest import RunningStack
from tests.e2e.fake_platforms import FakePlatforms
from tests.e2e.test_handoff_pipeline import WidgetCustomer
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
        widget.say("where is my order?")
        widget.reply_containing("order number")
        widget.say(order["number"])
        widget.reply_containing("email")
        widget.say(order["email"])
        in_widget = widget.reply_containing(order["number"])
    finally:
        widget.client.disconnect()

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
