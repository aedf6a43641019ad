"""The order-status action and the order lookup form's validation."""

from __future__ import annotations

import httpx
import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions.orders import ActionCheckOrderStatus, ValidateOrderLookupForm
from tests.actions.conftest import EMPTY_DOMAIN, make_tracker, order_json

VERIFIED = {"order_number": "ORD-100001", "email": "alice.martin@example.com"}


def responses(dispatcher):
    return [m["response"] for m in dispatcher.messages]


async def test_status_and_tracking_are_told_after_verification(crm, fake_crm, dispatcher):
    fake_crm.answer(lambda request: httpx.Response(200, json=order_json()))

    events = await ActionCheckOrderStatus(crm).run(dispatcher, make_tracker(VERIFIED), EMPTY_DOMAIN)

    assert events == []
    request = fake_crm.requests[0]
    assert request.url.path == "/api/orders/lookup"
    assert request.headers["Authorization"] == "Bearer token-for-tests"
    assert fake_crm.json_bodies() == [VERIFIED]
    status, tracking = dispatcher.messages
    assert status["response"] == "utter_order_status"
    assert status["order_number"] == "ORD-100001"
    assert status["items"] == "2 × Slim-fit jeans"
    assert status["status_text"] == "on its way"
    assert tracking["response"] == "utter_order_tracking"
    assert tracking["tracking_number"] == "DH8274660859"
    assert tracking["estimated_delivery"] == "Thursday 26 November"


async def test_delivered_order_says_when_and_has_no_tracking_message(crm, fake_crm, dispatcher):
    delivered = order_json(status="delivered")
    delivered["shipments"][0]["delivered_at"] = "2026-11-24T15:00:00+00:00"
    fake_crm.answer(lambda request: httpx.Response(200, json=delivered))

    await ActionCheckOrderStatus(crm).run(dispatcher, make_tracker(VERIFIED), EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_order_status"]
    assert dispatcher.messages[0]["status_text"] == "delivered on Tuesday 24 November"


async def test_wrong_email_reveals_nothing_and_clears_the_slots(crm, fake_crm, dispatcher):
    fake_crm.answer(lambda request: httpx.Response(404, json={"error": "order_not_found", "detail": "..."}))

    events = await ActionCheckOrderStatus(crm).run(dispatcher, make_tracker(VERIFIED), EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_order_not_found"]
    assert events == [SlotSet("order_number", None), SlotSet("email", None)]


@pytest.mark.parametrize(
    "failure",
    [
        lambda request: httpx.Response(500, json={"error": "internal_error"}),
        lambda request: httpx.Response(503, text="upstream down"),
        lambda request: httpx.Response(401, json={"error": "unauthorized"}),
    ],
)
async def test_crm_errors_become_a_plain_apology(crm, fake_crm, dispatcher, failure):
    fake_crm.answer(failure)

    events = await ActionCheckOrderStatus(crm).run(dispatcher, make_tracker(VERIFIED), EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_crm_unavailable"]
    assert events == []


@pytest.mark.parametrize("exception", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
async def test_crm_down_or_slow_becomes_a_plain_apology(crm, fake_crm, dispatcher, exception):
    def fail(request):
        raise exception

    fake_crm.answer(fail)

    await ActionCheckOrderStatus(crm).run(dispatcher, make_tracker(VERIFIED), EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_crm_unavailable"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ORD-104233", "ORD-104233"),
        ("104233", "ORD-104233"),
        ("#104233", "ORD-104233"),
        ("ord 104233", "ORD-104233"),
        ("order 104233", "ORD-104233"),
        ("ORD-1000042", "ORD-1000042"),
    ],
)
def test_order_number_is_normalized(dispatcher, typed, stored):
    result = ValidateOrderLookupForm().validate_order_number(typed, dispatcher, make_tracker(), EMPTY_DOMAIN)
    assert result == {"order_number": stored}
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["12345", "12345678", "my order", "ORD-12A456", None])
def test_invalid_order_number_is_reasked(dispatcher, typed):
    result = ValidateOrderLookupForm().validate_order_number(typed, dispatcher, make_tracker(), EMPTY_DOMAIN)
    assert result == {"order_number": None}
    assert responses(dispatcher) == ["utter_invalid_order_number"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Alice.Martin@Example.com", "alice.martin@example.com"),
        (" bob+shop@mail.co.uk. ", "bob+shop@mail.co.uk"),
    ],
)
def test_email_is_normalized(dispatcher, typed, stored):
    result = ValidateOrderLookupForm().validate_email(typed, dispatcher, make_tracker(), EMPTY_DOMAIN)
    assert result == {"email": stored}


@pytest.mark.parametrize("typed", ["alice", "alice@", "@example.com", "alice@example", "a b@example.com"])
def test_invalid_email_is_reasked(dispatcher, typed):
    result = ValidateOrderLookupForm().validate_email(typed, dispatcher, make_tracker(), EMPTY_DOMAIN)
    assert result == {"email": None}
    assert responses(dispatcher) == ["utter_invalid_email"]


async def test_missing_slots_send_the_customer_back_to_the_form(crm, fake_crm, dispatcher):
    events = await ActionCheckOrderStatus(crm).run(
        dispatcher, make_tracker({"order_number": "ORD-100001"}), EMPTY_DOMAIN
    )

    assert events == [FollowupAction("order_lookup_form")]
    assert fake_crm.requests == []


async def test_unexpected_bug_still_answers_the_customer(crm, fake_crm, dispatcher):
    fake_crm.answer(lambda request: httpx.Response(200, json={"number": "ORD-100001"}))  # missing fields

    events = await ActionCheckOrderStatus(crm).run(dispatcher, make_tracker(VERIFIED), EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_something_went_wrong"]
    assert events == []
