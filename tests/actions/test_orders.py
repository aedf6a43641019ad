"""action_order_request for each request, the address form and action_change_address."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions.conversation import YES_NO_BUTTONS
from actions.orders import ActionChangeAddress, ActionOrderRequest, ValidateAddressForm
from tests.actions.conftest import (
    CRM_DOWN_BUTTONS,
    EMPTY_DOMAIN,
    connection_refused,
    disabled_outbox,
    earlier_messages,
    make_tracker,
    not_found,
    order_json,
    refund_json,
    refusal,
    responses,
    return_json,
    slots_set,
)

EMAIL = "alice.martin@example.com"
VERIFIED = {"verified_order": "ORD-100001", "order_number": "ORD-100001", "email": EMAIL}
KNOWN = {**VERIFIED, "customer_id": "1"}
LOOKUP = ("POST", "/api/orders/lookup")


def delivered(**overrides):
    """A delivered order whose return window is still open unless told otherwise."""
    window_ends = datetime.now(timezone.utc) + timedelta(days=27)
    body = order_json(status="delivered", return_window_ends=window_ends.isoformat().replace("+00:00", "Z"))
    body["shipments"][0]["delivered_at"] = "2026-11-24T15:00:00Z"
    body.update(overrides)
    return body


async def order_request(crm, fake_crm, dispatcher, order, request, slots=VERIFIED, **tracker_args):
    fake_crm.route({LOOKUP: httpx.Response(200, json=order)})
    tracker = make_tracker({**slots, "request": request}, **tracker_args)
    return await ActionOrderRequest(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)


# --- track ---------------------------------------------------------------------------------


async def test_track_tells_status_and_tracking(crm, fake_crm, dispatcher):
    events = await order_request(crm, fake_crm, dispatcher, order_json(), "track")

    assert fake_crm.calls() == [LOOKUP]
    assert fake_crm.requests[0].headers["Authorization"] == "Bearer token-for-tests"
    assert fake_crm.json_bodies() == [{"order_number": "ORD-100001", "email": EMAIL}]
    status, tracking = dispatcher.messages
    assert status["response"] == "utter_order_status"
    assert (status["order_number"], status["items"], status["status_text"]) == (
        "ORD-100001",
        "2 × Slim-fit jeans",
        "on its way",
    )
    assert tracking["response"] == "utter_order_tracking"
    assert (tracking["carrier"], tracking["tracking_number"], tracking["estimated_delivery"]) == (
        "DHL",
        "DH8274660859",
        "Thursday 26 November",
    )
    assert tracking["tracking_url"] == "https://www.dhl.com/track?id=DH8274660859"
    assert events == [SlotSet("request", None)]


async def test_a_known_customer_proves_ownership_by_id(crm, fake_crm, dispatcher):
    await order_request(crm, fake_crm, dispatcher, order_json(), "track", slots=KNOWN)

    assert fake_crm.json_bodies() == [{"order_number": "ORD-100001", "customer_id": 1}]


async def test_no_request_means_tracking(crm, fake_crm, dispatcher):
    await order_request(crm, fake_crm, dispatcher, order_json(), None)

    assert responses(dispatcher) == ["utter_order_status", "utter_order_tracking"]


async def test_a_delivered_order_says_when_and_has_no_tracking(crm, fake_crm, dispatcher):
    await order_request(crm, fake_crm, dispatcher, delivered(), "track")

    assert responses(dispatcher) == ["utter_order_status"]
    assert dispatcher.messages[0]["status_text"] == "delivered on Tuesday 24 November"


# --- cancel --------------------------------------------------------------------------------


async def test_cancel_asks_for_confirmation_of_the_next_message(crm, fake_crm, dispatcher):
    order = order_json(status="paid", can_cancel=True, shipments=[])

    events = await order_request(
        crm, fake_crm, dispatcher, order, "cancel", history=earlier_messages(2), text="alice@example.com"
    )

    (question,) = dispatcher.messages
    assert question["response"] == "utter_confirm_cancel"
    assert (question["order_number"], question["items"], question["total"]) == (
        "ORD-100001",
        "2 × Slim-fit jeans",
        "€159.80",
    )
    assert question["buttons"] == YES_NO_BUTTONS
    # Asked after the customer's third message: only the fourth can answer it.
    assert events == [SlotSet("pending_confirmation", "cancel_order@3"), SlotSet("request", None)]
    assert fake_crm.calls() == [LOOKUP]


async def test_a_shipped_order_cannot_be_cancelled_and_says_why(crm, fake_crm, dispatcher):
    events = await order_request(crm, fake_crm, dispatcher, order_json(), "cancel")

    assert responses(dispatcher) == ["utter_cannot_cancel_shipped"]
    assert dispatcher.messages[0]["status_text"] == "on its way"
    assert dispatcher.messages[0]["order_number"] == "ORD-100001"
    assert "pending_confirmation" not in slots_set(events)


async def test_an_already_cancelled_order_is_not_cancelled_again(crm, fake_crm, dispatcher):
    events = await order_request(crm, fake_crm, dispatcher, order_json(status="cancelled"), "cancel")

    assert responses(dispatcher) == ["utter_order_already_cancelled"]
    assert events == [SlotSet("request", None)]


# --- change the address --------------------------------------------------------------------


@pytest.mark.parametrize("status", ["placed", "paid", "packed"])
async def test_before_shipment_the_masked_address_is_shown_and_the_form_starts(
    status, crm, fake_crm, dispatcher
):
    order = order_json(status=status, shipments=[])

    events = await order_request(crm, fake_crm, dispatcher, order, "change_address")

    assert responses(dispatcher) == ["utter_current_address"]
    assert dispatcher.messages[0]["address"] == "12*** in Lyon (690**)"
    assert events == [FollowupAction("address_form"), SlotSet("request", None)]


@pytest.mark.parametrize("status", ["shipped", "delivered", "cancelled"])
async def test_after_shipment_the_address_cannot_change(status, crm, fake_crm, dispatcher):
    events = await order_request(crm, fake_crm, dispatcher, order_json(status=status), "change_address")

    assert responses(dispatcher) == ["utter_cannot_change_address"]
    assert dispatcher.messages[0]["status_text"].startswith(status if status != "shipped" else "on its way")
    assert events == [SlotSet("request", None)]


# --- return --------------------------------------------------------------------------------


async def test_a_delivered_order_in_its_window_asks_why_in_the_details_form(crm, fake_crm, dispatcher):
    events = await order_request(crm, fake_crm, dispatcher, delivered(), "return")

    assert dispatcher.messages == []
    assert events == [FollowupAction("details_form")]


async def test_an_order_not_yet_delivered_cannot_be_returned(crm, fake_crm, dispatcher):
    events = await order_request(crm, fake_crm, dispatcher, order_json(), "return")

    assert responses(dispatcher) == ["utter_cannot_return_yet"]
    assert dispatcher.messages[0]["status_text"] == "on its way"
    assert events == [SlotSet("request", None)]


async def test_a_closed_return_window_says_when_it_closed(crm, fake_crm, dispatcher):
    order = delivered(return_window_ends="2026-01-05T15:00:00Z")

    events = await order_request(crm, fake_crm, dispatcher, order, "return")

    assert responses(dispatcher) == ["utter_return_window_closed"]
    assert dispatcher.messages[0]["closed_on"] == "5 January"
    assert events == [SlotSet("request", None)]


async def test_an_open_return_is_not_opened_twice(crm, fake_crm, dispatcher):
    order = delivered(returns=[return_json("RMA-000042", "requested")])

    events = await order_request(crm, fake_crm, dispatcher, order, "return")

    assert responses(dispatcher) == ["utter_return_already_open"]
    assert dispatcher.messages[0]["return_number"] == "RMA-000042"
    assert events == [SlotSet("request", None)]


async def test_a_finished_return_does_not_block_a_new_one(crm, fake_crm, dispatcher):
    order = delivered(returns=[return_json("RMA-000041", "rejected")])

    events = await order_request(crm, fake_crm, dispatcher, order, "return")

    assert events == [FollowupAction("details_form")]


# --- refund --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "wording"),
    [
        ("pending", "is being processed"),
        ("processing", "is being processed"),
        ("completed", "has been paid back"),
        ("failed", "could not be paid out — a colleague will contact you"),
    ],
)
async def test_each_refund_is_told_with_its_status(status, wording, crm, fake_crm, dispatcher):
    order = order_json(status="cancelled", refunds=[refund_json(status, 15980)])

    await order_request(crm, fake_crm, dispatcher, order, "refund")

    (message,) = dispatcher.messages
    assert message["response"] == "utter_refund_status"
    assert (message["amount"], message["refund_status"], message["created"]) == (
        "€159.80",
        wording,
        "3 December",
    )


async def test_several_refunds_are_all_told(crm, fake_crm, dispatcher):
    order = order_json(refunds=[refund_json("completed", 500), refund_json("pending", 1000)])

    await order_request(crm, fake_crm, dispatcher, order, "refund")

    assert [m["amount"] for m in dispatcher.messages] == ["€5.00", "€10.00"]


@pytest.mark.parametrize(
    ("order", "response"),
    [(order_json(), "utter_no_refund"), (delivered(), "utter_no_refund_returnable")],
    ids=["shipped", "delivered"],
)
async def test_no_refund_says_so_and_suggests_a_return_once_delivered(
    order, response, crm, fake_crm, dispatcher
):
    await order_request(crm, fake_crm, dispatcher, order, "refund")

    assert responses(dispatcher) == [response]


# --- contact, locks, outages ---------------------------------------------------------------


async def test_a_contact_change_of_a_known_customer_goes_to_the_details_form(crm, fake_crm, dispatcher):
    tracker = make_tracker({"customer_id": "1", "request": "contact"})

    events = await ActionOrderRequest(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    assert events == [FollowupAction("details_form")]
    assert fake_crm.requests == []


async def test_a_locked_verification_offers_a_person(crm, fake_crm, dispatcher):
    tracker = make_tracker({"verification_locked": True, "request": "cancel"})

    events = await ActionOrderRequest(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_verification_locked"]
    assert dispatcher.messages[0]["buttons"] == YES_NO_BUTTONS
    assert events == [
        SlotSet("handoff_reason", "verification_lockout"),
        SlotSet("pending_confirmation", "handoff@1"),
    ]
    assert fake_crm.requests == []


async def test_an_unreachable_crm_during_the_form_offers_a_message_or_a_person(crm, fake_crm, dispatcher):
    tracker = make_tracker({"crm_unreachable": True, "request": "track"})

    events = await ActionOrderRequest(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_crm_unavailable"]
    assert dispatcher.messages[0]["buttons"] == CRM_DOWN_BUTTONS
    assert events == [SlotSet("crm_unreachable", None)]
    assert fake_crm.requests == []


@pytest.mark.parametrize("slots", [{}, {"verified_order": "ORD-100001"}, {"email": EMAIL}])
async def test_without_a_verified_order_the_lookup_form_runs_first(slots, crm, fake_crm, dispatcher):
    events = await ActionOrderRequest(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(slots), EMPTY_DOMAIN
    )

    assert events == [FollowupAction("order_lookup_form")]
    assert fake_crm.requests == []


async def test_an_order_no_longer_found_is_forgotten(crm, fake_crm, dispatcher):
    fake_crm.route({LOOKUP: not_found("order_not_found")})

    events = await ActionOrderRequest(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(VERIFIED), EMPTY_DOMAIN
    )

    assert responses(dispatcher) == ["utter_order_not_found"]
    assert events == [SlotSet("verified_order", None), SlotSet("order_number", None)]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json={"error": "internal_error"}),
        httpx.Response(503, text="upstream down"),
        httpx.Response(401, json={"error": "unauthorized"}),
        connection_refused,
    ],
    ids=["500", "503", "401", "refused"],
)
async def test_the_crm_down_on_the_lookup_offers_a_message_or_a_person(failure, crm, fake_crm, dispatcher):
    fake_crm.route({LOOKUP: failure})

    events = await ActionOrderRequest(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(VERIFIED), EMPTY_DOMAIN
    )

    assert responses(dispatcher) == ["utter_crm_unavailable"]
    assert dispatcher.messages[0]["buttons"] == CRM_DOWN_BUTTONS
    # The buttons start what the customer picks; no yes/no question is left pending.
    assert events == []


async def test_an_unexpected_bug_still_answers_the_customer(crm, fake_crm, dispatcher):
    fake_crm.route({LOOKUP: httpx.Response(200, json={"number": "ORD-100001"})})  # missing fields

    events = await ActionOrderRequest(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(VERIFIED), EMPTY_DOMAIN
    )

    assert responses(dispatcher) == ["utter_something_went_wrong"]
    assert events == []


# --- the address form ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slot", "typed", "stored"),
    [
        ("address_line1", "  5 Avenue Foch ", "5 Avenue Foch"),
        ("address_line1", "Flat 2, 10 Downing Street", "Flat 2, 10 Downing Street"),
        ("address_postal_code", "69003", "69003"),
        ("address_postal_code", "sw1a 1aa", "SW1A 1AA"),
        ("address_postal_code", "1010-AB", "1010-AB"),
        ("address_city", "lyon", "Lyon"),
        ("address_city", "saint-étienne", "Saint-Étienne"),
        ("address_city", "McAllen", "McAllen"),
    ],
)
def test_address_parts_are_accepted_and_tidied(slot, typed, stored, dispatcher):
    result = getattr(ValidateAddressForm(), f"validate_{slot}")(
        typed, dispatcher, make_tracker(), EMPTY_DOMAIN
    )

    assert result == {slot: stored}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("slot", "typed", "response"),
    [
        ("address_line1", "12", "utter_invalid_address_line1"),
        ("address_line1", "123456", "utter_invalid_address_line1"),
        ("address_line1", "x" * 201, "utter_invalid_address_line1"),
        ("address_line1", None, "utter_invalid_address_line1"),
        ("address_postal_code", "ABC", "utter_invalid_postal_code"),
        ("address_postal_code", "1", "utter_invalid_postal_code"),
        ("address_postal_code", "12345678901", "utter_invalid_postal_code"),
        ("address_postal_code", "69#02", "utter_invalid_postal_code"),
        ("address_city", "L", "utter_invalid_city"),
        ("address_city", "Lyon 2", "utter_invalid_city"),
        ("address_city", None, "utter_invalid_city"),
    ],
)
def test_address_parts_of_the_wrong_shape_are_asked_again(slot, typed, response, dispatcher):
    result = getattr(ValidateAddressForm(), f"validate_{slot}")(
        typed, dispatcher, make_tracker(), EMPTY_DOMAIN
    )

    assert result == {slot: None}
    assert responses(dispatcher) == [response]


# --- action_change_address -----------------------------------------------------------------

NEW_ADDRESS = {"address_line1": "5 Avenue Foch", "address_postal_code": "75016", "address_city": "Paris"}
CLEARED = [
    SlotSet("address_line1", None),
    SlotSet("address_postal_code", None),
    SlotSet("address_city", None),
    SlotSet("request", None),
]
CHANGE = ("PUT", "/api/orders/ORD-100001/shipping-address")


def moved_order() -> dict[str, object]:
    order = order_json(status="paid", shipments=[])
    order["shipping_address"] = {**order["shipping_address"], "line1": "5 Avenue Foch", "postal_code": "75016", "city": "Paris"}  # fmt: skip
    return order


async def change_address(crm, dispatcher, slots=KNOWN):
    tracker = make_tracker({**slots, **NEW_ADDRESS, "request": "change_address"})
    return await ActionChangeAddress(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)


async def test_the_new_address_keeps_the_recipient_and_country(crm, fake_crm, dispatcher):
    fake_crm.route(
        {
            LOOKUP: httpx.Response(200, json=order_json(status="paid")),
            CHANGE: httpx.Response(200, json=moved_order()),
        }
    )

    events = await change_address(crm, dispatcher)

    assert fake_crm.calls() == [LOOKUP, CHANGE]
    assert fake_crm.json_bodies()[1] == {
        "customer_id": 1,
        "address": {
            "name": "Alice Martin",
            "line1": "5 Avenue Foch",
            "line2": None,
            "postal_code": "75016",
            "city": "Paris",
            "country": "FR",
        },
    }
    assert responses(dispatcher) == ["utter_address_changed"]
    assert dispatcher.messages[0]["address"] == "5 *** in Paris (750**)"
    assert events == CLEARED


async def test_a_refused_address_change_says_why(crm, fake_crm, dispatcher):
    detail = "Order ORD-100001 has already shipped on 21 November 2026, so it can no longer be redirected."
    fake_crm.route(
        {
            LOOKUP: httpx.Response(200, json=order_json(status="paid")),
            CHANGE: refusal("order_already_shipped", detail),
        }
    )

    events = await change_address(crm, dispatcher)

    assert responses(dispatcher) == ["utter_address_change_refused"]
    assert dispatcher.messages[0]["reason"] == detail
    assert events == CLEARED


async def test_the_crm_down_during_the_change_offers_a_message_or_a_person(crm, fake_crm, dispatcher):
    fake_crm.route({LOOKUP: httpx.Response(200, json=order_json(status="paid")), CHANGE: httpx.Response(502)})

    events = await change_address(crm, dispatcher)

    assert responses(dispatcher) == ["utter_crm_unavailable"]
    assert dispatcher.messages[0]["buttons"] == CRM_DOWN_BUTTONS
    assert events == CLEARED


async def test_an_address_change_without_a_verified_order_verifies_first(crm, fake_crm, dispatcher):
    events = await change_address(crm, dispatcher, slots={})

    assert events == [*CLEARED, FollowupAction("order_lookup_form")]
    assert fake_crm.requests == []
