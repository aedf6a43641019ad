"""The assistant's requests end to end: real Rasa, action server, CRM (PostgreSQL) and Redis.

Each test checks what the customer reads and what the CRM stores afterwards. Tests pick
their own seeded orders (by status) so they don't depend on each other's changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Customer, RunningStack

DEMO_EMAIL = "alice.martin@example.com"
_claimed: set[str] = set()


def claim_order(stack: RunningStack, status: str, *, predicate: Any = None) -> dict[str, Any]:
    """A seeded order in `status` that no other test has used: its full CRM record."""
    with stack.crm() as crm:
        page = crm.get("/api/orders", params={"status": status, "limit": 100}).json()
        for summary in page["items"]:
            if summary["number"] in _claimed:
                continue
            order: dict[str, Any] = crm.get(f"/api/orders/{summary['number']}").json()
            if predicate is None or predicate(order):
                _claimed.add(order["number"])
                return order
    pytest.fail(f"no unused seeded order with status {status}")


def crm_order(stack: RunningStack, number: str) -> dict[str, Any]:
    with stack.crm() as crm:
        body: dict[str, Any] = crm.get(f"/api/orders/{number}").json()
        return body


def verify(customer: Customer, request: str, order: dict[str, Any]) -> str:
    """Ask for something about an order, answer the form, and return the bot's words after it."""
    customer.say(request)
    customer.say(order["number"])
    return " ".join(customer.say(order["email"]))


@pytest.fixture
def agent_online(running_stack: RunningStack) -> Iterator[None]:
    """One demo agent logged in and online for the test, offline again afterwards."""
    with httpx.Client(base_url=running_stack.config.crm_url, timeout=10) as http:
        login = http.post(
            "/api/auth/login", json={"email": "sam@example.com", "password": "sam-demo-password"}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        http.put("/api/agents/me/presence", json={"is_online": True}, headers=headers).raise_for_status()
        yield
        http.put("/api/agents/me/presence", json={"is_online": False}, headers=headers)


def handoffs_of(stack: RunningStack, sender: str) -> list[dict[str, Any]]:
    with stack.crm() as crm:
        items = crm.get("/api/handoffs", params={"limit": 100}).json()["items"]
    return [h for h in items if h["sender_id"] == sender]


def test_cancel_asks_first_then_cancels_and_refunds(running_stack: RunningStack, customer: Customer):
    order = claim_order(running_stack, "paid")

    question = verify(customer, "I want to cancel my order", order)
    assert "cancel order" in question.lower()
    assert order["number"] in question
    assert crm_order(running_stack, order["number"])["status"] == "paid"  # nothing happens before "yes"

    done = " ".join(customer.say("yes"))
    assert "is cancelled" in done
    assert "refund" in done.lower()
    after = crm_order(running_stack, order["number"])
    assert after["status"] == "cancelled"
    assert after["refunds"][0]["status"] == "pending"

    # Still verified: the refund question needs no second proof.
    refund = " ".join(customer.say("where is my refund?"))
    assert "is being processed" in refund


def test_a_shipped_order_is_not_cancelled_and_the_reason_is_given(
    running_stack: RunningStack, customer: Customer
):
    order = claim_order(running_stack, "shipped")

    answer = verify(customer, "please cancel my order", order)

    assert "can't cancel" in answer
    assert "on its way" in answer
    assert crm_order(running_stack, order["number"])["status"] == "shipped"


def test_no_keeps_the_order(running_stack: RunningStack, customer: Customer):
    order = claim_order(running_stack, "paid")
    verify(customer, "cancel my order", order)

    answer = " ".join(customer.say("no"))

    assert "haven't cancelled" in answer
    assert crm_order(running_stack, order["number"])["status"] == "paid"


def test_address_change_before_shipment(running_stack: RunningStack, customer: Customer):
    order = claim_order(running_stack, "paid")

    intro = verify(customer, "I need to change the delivery address of my order", order)
    assert "street" in intro.lower()
    assert order["shipping_address"]["line1"] not in intro  # masked
    customer.say("27 Harbour Road")
    customer.say("BS1 4RW")
    answer = " ".join(customer.say("Bristol"))

    assert "Done" in answer
    assert "Bristol" in answer
    assert "27 Harbour Road" not in answer
    address = crm_order(running_stack, order["number"])["shipping_address"]
    assert (address["line1"], address["postal_code"], address["city"]) == (
        "27 Harbour Road",
        "BS1 4RW",
        "Bristol",
    )
    assert address["name"] == order["shipping_address"]["name"]


def test_return_within_the_window(running_stack: RunningStack, customer: Customer):
    order = claim_order(
        running_stack, "delivered", predicate=lambda o: o["return_window_ends"] and not o["returns"]
    )

    reason_question = verify(customer, "I want to return my order", order)
    assert "why" in reason_question.lower()
    answer = " ".join(customer.say("the jacket is too small"))

    returns = crm_order(running_stack, order["number"])["returns"]
    assert len(returns) == 1
    assert returns[0]["reason"] == "the jacket is too small"
    assert returns[0]["number"] in answer


def test_verification_locks_after_three_failures_and_offers_a_person(
    running_stack: RunningStack, customer: Customer
):
    order = claim_order(running_stack, "shipped")
    customer.say("where is my order")
    for attempt in range(3):
        customer.say(order["number"])
        last = " ".join(customer.say(f"wrong.person{attempt}@example.com"))

    assert "three attempts" in last
    assert "person" in last
    assert order["number"] not in last
    # Locked for the rest of the conversation: no new attempt is even asked for.
    again = " ".join(customer.say("where is my order"))
    assert "three attempts" in again
    assert "order number" not in again
    assert " ".join(customer.say("no")).startswith("Okay!")
    assert handoffs_of(running_stack, customer.sender) == []


def test_lockout_handoff_is_queued_and_the_bot_pauses(
    running_stack: RunningStack, customer: Customer, agent_online: None
):
    order = claim_order(running_stack, "shipped")
    customer.say("track my order")
    for attempt in range(3):
        customer.say(order["number"])
        customer.say(f"nobody{attempt}@example.com")

    queued = " ".join(customer.say("yes"))

    assert "number 1 in the queue" in queued or "in the queue" in queued
    (handoff,) = handoffs_of(running_stack, customer.sender)
    assert handoff["reason"] == "verification_lockout"
    assert handoff["status"] == "waiting"
    assert handoff["summary"]["intent"] == "track_order"
    assert customer.say("hello? anyone there?") == []  # paused: a person answers now


def test_talk_to_a_person_mid_form_with_nobody_online_opens_a_ticket(
    running_stack: RunningStack, customer: Customer
):
    customer.say("where is my order?")
    answer = " ".join(customer.say("I want to talk to a human"))
    assert "No colleague is available" in answer
    done = " ".join(customer.say("casey.jones@example.net"))

    assert "TCK-" in done
    assert "c***@example.net" in done
    (handoff,) = handoffs_of(running_stack, customer.sender)
    assert handoff["reason"] == "customer_request"


def test_open_a_ticket_then_check_it_and_add_to_it(running_stack: RunningStack, customer: Customer):
    customer.say("I want to open a support ticket")
    customer.say("Payment")
    customer.say("I was charged twice for the same order yesterday")
    created = " ".join(customer.say(DEMO_EMAIL))
    number = next(word.strip(".,") for word in created.split() if word.startswith("TCK-"))
    with running_stack.crm() as crm:
        ticket = crm.get(f"/api/tickets/{number}").json()
    assert ticket["category"] == "payment"
    assert ticket["description"] == "I was charged twice for the same order yesterday"

    other = Customer(running_stack.config.rasa_url)
    other.say("what's the status of my ticket?")
    other.say(number)
    status = " ".join(other.say(DEMO_EMAIL))
    assert number in status
    assert "waiting for a colleague" in status

    other.say(f"I want to add information to ticket {number}")
    added = " ".join(other.say("It was order ORD-100002, paid by card"))
    assert "added that to ticket" in added
    with running_stack.crm() as crm:
        comments = crm.get(f"/api/tickets/{number}").json()["comments"]
    assert comments[-1]["body"] == "It was order ORD-100002, paid by card"


def test_complaint_opens_a_high_priority_ticket_without_card_numbers(
    running_stack: RunningStack, customer: Customer
):
    customer.say("I want to make a complaint")
    customer.say(
        "The courier left my parcel in the rain. I paid with card 4111 1111 1111 1111 and want it fixed"
    )
    answer = " ".join(customer.say(DEMO_EMAIL))

    number = next(word.strip(".,") for word in answer.split() if word.startswith("TCK-"))
    with running_stack.crm() as crm:
        ticket = crm.get(f"/api/tickets/{number}").json()
    assert (ticket["category"], ticket["priority"]) == ("complaint", "high")
    assert "4111" not in ticket["description"]
    assert "[card number removed]" in ticket["description"]


def test_email_change_is_written_to_the_crm(running_stack: RunningStack, customer: Customer):
    order = claim_order(running_stack, "delivered")

    verify(customer, "I need to change my email address", order)
    answer = " ".join(customer.say("new.address.e2e@example.org"))

    assert "n***@example.org" in answer
    assert "new.address.e2e@example.org" not in answer
    with running_stack.crm() as crm:
        assert (
            crm.get(f"/api/customers/{order['customer_id']}").json()["email"] == "new.address.e2e@example.org"
        )
