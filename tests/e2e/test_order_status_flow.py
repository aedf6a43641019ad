"""The thin end-to-end flow: "where is my order?" answered from the CRM over real HTTP."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import Customer, RunningStack

DEMO_ORDER = "ORD-100001"
DEMO_EMAIL = "alice.martin@example.com"


def test_customer_gets_status_items_and_tracking(running_stack: RunningStack, customer: Customer):
    with running_stack.crm() as crm:
        truth = crm.post("/api/orders/lookup", json={"order_number": DEMO_ORDER, "email": DEMO_EMAIL}).json()
    shipment = truth["shipments"][0]

    asked_number = customer.say("where is my order?")
    asked_email = customer.say(DEMO_ORDER)
    answer = " ".join(customer.say(DEMO_EMAIL))

    assert any("order number" in reply for reply in asked_number)
    assert any("email" in reply for reply in asked_email)
    assert DEMO_ORDER in answer
    assert "on its way" in answer
    assert truth["items"][0]["name"] in answer
    assert shipment["tracking_number"] in answer
    assert shipment["carrier"] in answer
    assert DEMO_EMAIL not in answer


def test_wrong_email_gets_no_data(running_stack: RunningStack, customer: Customer):
    customer.say("where is my order?")
    customer.say(DEMO_ORDER)
    answer = " ".join(customer.say("somebody.else@example.com"))

    assert "I couldn't find an order with that number and email" in answer
    assert DEMO_ORDER not in answer
    assert "tracking" not in answer.lower()


def test_order_number_given_up_front_and_typed_loosely(running_stack: RunningStack, customer: Customer):
    asked_email = customer.say("where is order 100001")
    answer = " ".join(customer.say(f"it's {DEMO_EMAIL.upper()}"))

    assert any("email" in reply for reply in asked_email)
    assert DEMO_ORDER in answer


def test_badly_formed_values_are_reasked(running_stack: RunningStack, customer: Customer):
    customer.say("track my order")
    reask_number = " ".join(customer.say("12345"))
    customer.say(DEMO_ORDER)
    reask_email = " ".join(customer.say("alice at example"))

    assert "doesn't look like an order number" in reask_number
    assert "doesn't look like an email" in reask_email


def test_every_service_reports_healthy(running_stack: RunningStack):
    config = running_stack.config
    assert httpx.get(f"{config.crm_url}/healthz").json()["status"] == "ok"
    assert httpx.get(f"{config.actions_url}/health").json() == {"status": "ok"}
    assert "Hello from Rasa" in httpx.get(f"{config.rasa_url}/").text
