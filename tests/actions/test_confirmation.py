"""action_resolve_confirmation: a yes or no answers the question just asked, or nothing at all."""

from __future__ import annotations

import httpx
import pytest
from rasa_sdk.events import ConversationPaused, SlotSet

from actions.confirmation import ActionResolveConfirmation
from actions.conversation import ask_confirmation
from actions.faq import ActionAnswerFaq
from actions.support_hours import SupportHours
from tests.actions.conftest import (
    CRM_DOWN_BUTTONS,
    EMPTY_DOMAIN,
    disabled_outbox,
    earlier_messages,
    given_outbox,
    make_tracker,
    order_json,
    refund_json,
    refusal,
    responses,
    slots_set,
)

EMAIL = "alice.martin@example.com"
VERIFIED = {"verified_order": "ORD-100001", "email": EMAIL, "request": "cancel"}
CANCEL = ("POST", "/api/orders/ORD-100001/cancel")
CLEARED = SlotSet("pending_confirmation", None)


def answer(intent, pending, slots=VERIFIED, *, messages_since=0):
    """The customer's answer (`intent`), `messages_since` messages after the bot asked `pending`."""
    return make_tracker(
        {**slots, "pending_confirmation": f"{pending}@1"},
        history=earlier_messages(1 + messages_since),
        intent=intent,
        text="yes" if intent == "affirm" else "no",
    )


def resolve(crm, dispatcher, tracker):
    return given_outbox(ActionResolveConfirmation(crm, hours=SupportHours()), disabled_outbox()).run(
        dispatcher, tracker, EMPTY_DOMAIN
    )


# --- cancel an order -----------------------------------------------------------------------


async def test_yes_cancels_the_order_once_and_tells_of_the_refund(crm, fake_crm, dispatcher):
    cancelled = order_json(status="cancelled", shipments=[], refunds=[refund_json("pending", 15980)])
    fake_crm.route({CANCEL: httpx.Response(200, json=cancelled)})

    events = await resolve(crm, dispatcher, answer("affirm", "cancel_order"))

    assert fake_crm.calls() == [CANCEL]
    assert fake_crm.requests[0].headers["Idempotency-Key"] == "bot-cancel-test-sender-ORD-100001"
    assert fake_crm.json_bodies() == [{"email": EMAIL, "reason": "cancelled by the customer in chat"}]
    assert responses(dispatcher) == ["utter_order_cancelled", "utter_refund_on_its_way"]
    assert dispatcher.messages[0]["order_number"] == "ORD-100001"
    assert dispatcher.messages[1]["amount"] == "€159.80"
    assert events == [CLEARED, SlotSet("request", None)]


async def test_an_unpaid_order_is_cancelled_without_a_refund(crm, fake_crm, dispatcher):
    fake_crm.route({CANCEL: httpx.Response(200, json=order_json(status="cancelled", shipments=[]))})

    await resolve(crm, dispatcher, answer("affirm", "cancel_order", {**VERIFIED, "customer_id": "1"}))

    assert fake_crm.json_bodies() == [{"customer_id": 1, "reason": "cancelled by the customer in chat"}]
    assert responses(dispatcher) == ["utter_order_cancelled"]


async def test_a_refused_cancellation_says_the_crms_reason(crm, fake_crm, dispatcher):
    detail = "Order ORD-100001 has already shipped on 21 November 2026, so it can no longer be cancelled."
    fake_crm.route({CANCEL: refusal("order_already_shipped", detail)})

    events = await resolve(crm, dispatcher, answer("affirm", "cancel_order"))

    assert responses(dispatcher) == ["utter_cancel_refused"]
    assert dispatcher.messages[0]["reason"] == detail
    assert events == [CLEARED, SlotSet("request", None)]


async def test_the_crm_down_during_the_cancellation_offers_a_message_or_a_person(crm, fake_crm, dispatcher):
    fake_crm.route({CANCEL: httpx.Response(503)})

    events = await resolve(crm, dispatcher, answer("affirm", "cancel_order"))

    assert responses(dispatcher) == ["utter_crm_unavailable"]
    assert dispatcher.messages[0]["buttons"] == CRM_DOWN_BUTTONS
    # Buttons, not a yes/no question: nothing is left pending.
    assert events == [CLEARED]


async def test_no_keeps_the_order_and_sends_nothing(crm, fake_crm, dispatcher):
    events = await resolve(crm, dispatcher, answer("deny", "cancel_order"))

    assert fake_crm.requests == []
    assert responses(dispatcher) == ["utter_order_kept"]
    assert events == [CLEARED, SlotSet("request", None)]


@pytest.mark.parametrize("messages_since", [1, 2])
async def test_a_late_yes_does_not_cancel_but_asks_again(messages_since, crm, fake_crm, dispatcher):
    tracker = answer("affirm", "cancel_order", messages_since=messages_since)

    events = await resolve(crm, dispatcher, tracker)

    assert fake_crm.requests == []
    assert responses(dispatcher) == ["utter_confirm_cancel_again"]
    assert dispatcher.messages[0]["order_number"] == VERIFIED["verified_order"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]
    # Asked now: the very next "yes" counts.
    assert events == [ask_confirmation(tracker, "cancel_order")]


async def test_a_late_no_needs_no_second_question(crm, fake_crm, dispatcher):
    tracker = answer("deny", "cancel_order", messages_since=2)

    events = await resolve(crm, dispatcher, tracker)

    assert fake_crm.requests == []
    assert responses(dispatcher) == ["utter_anything_else"]
    assert events == [CLEARED]


@pytest.mark.parametrize(
    ("intent", "response"), [("affirm", "utter_happy_to_help"), ("deny", "utter_anything_else")]
)
async def test_a_yes_or_no_to_no_question_is_answered_politely(intent, response, crm, fake_crm, dispatcher):
    tracker = make_tracker(VERIFIED, history=earlier_messages(3), intent=intent)

    events = await resolve(crm, dispatcher, tracker)

    assert fake_crm.requests == []
    assert responses(dispatcher) == [response]
    assert events == [CLEARED]


@pytest.mark.parametrize("pending", ["cancel_order", "cancel_order@", "cancel_order@x", 3])
async def test_a_malformed_pending_question_is_ignored(pending, crm, fake_crm, dispatcher):
    tracker = make_tracker({**VERIFIED, "pending_confirmation": pending}, intent="affirm")

    await resolve(crm, dispatcher, tracker)

    assert fake_crm.requests == []
    assert responses(dispatcher) == ["utter_happy_to_help"]


# --- a person ------------------------------------------------------------------------------

HANDOFF = ("POST", "/api/handoffs")


def queued(agents_online=2, queue_position=3):
    return httpx.Response(
        201, json={"id": 9, "queue_position": queue_position, "agents_online": agents_online}
    )


async def test_yes_to_a_person_hands_off_with_the_reason_given_when_offered(crm, fake_crm, dispatcher):
    fake_crm.route({HANDOFF: queued()})

    events = await resolve(crm, dispatcher, answer("affirm", "handoff", {"handoff_reason": "complaint"}))

    assert fake_crm.calls() == [HANDOFF]
    assert fake_crm.json_bodies()[0]["reason"] == "complaint"
    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert dispatcher.messages[0]["queue_position"] == 3
    assert events == [
        CLEARED,
        SlotSet("handoff_reason", None),
        SlotSet("failed_turns", 0),
        ConversationPaused(),
    ]


async def test_yes_to_a_person_without_a_reason_is_a_customer_request(crm, fake_crm, dispatcher):
    fake_crm.route({HANDOFF: queued()})

    await resolve(crm, dispatcher, answer("affirm", "handoff", {}))

    assert fake_crm.json_bodies()[0]["reason"] == "customer_request"


async def test_no_to_a_person_carries_on_without_one(crm, fake_crm, dispatcher):
    events = await resolve(crm, dispatcher, answer("deny", "handoff", {"handoff_reason": "frustration"}))

    assert fake_crm.requests == []
    assert responses(dispatcher) == ["utter_no_handoff"]
    assert events == [CLEARED, SlotSet("handoff_reason", None)]


# --- "None of these" -----------------------------------------------------------------------


async def test_none_of_the_suggestions_asks_to_rephrase(crm, fake_crm, dispatcher):
    tracker = answer("deny", "faq_suggestions", {"failed_turns": 1.0})

    events = await resolve(crm, dispatcher, tracker)

    assert fake_crm.requests == []
    assert responses(dispatcher) == ["utter_ask_rephrase"]
    assert events == [CLEARED]


async def test_yes_to_the_suggestions_is_welcomed(crm, fake_crm, dispatcher):
    events = await resolve(crm, dispatcher, answer("affirm", "faq_suggestions", {"failed_turns": 1.0}))

    assert responses(dispatcher) == ["utter_happy_to_help"]
    assert events == [CLEARED]


async def test_suggestions_then_rephrase_then_a_person(crm, fake_crm, dispatcher):
    unsure = {"results": [{"id": "refund-status", "question": "When is my refund?", "answer": "5 days.", "score": 0.55}], "answered": False}  # fmt: skip
    fake_crm.route({("GET", "/api/faq/search"): httpx.Response(200, json=unsure)})
    slots: dict[str, object] = {}

    # 1st message: not sure, so suggestions.
    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(slots, text="money back?"), EMPTY_DOMAIN
    )
    slots.update(slots_set(events))
    # 2nd message: "None of these".
    tracker = make_tracker(slots, history=earlier_messages(1), intent="deny", text="/deny")
    slots.update(slots_set(await resolve(crm, dispatcher, tracker)))
    # 3rd message: the rephrased question still finds nothing sure.
    tracker = make_tracker(slots, history=earlier_messages(2), text="when do I get my money")
    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    assert responses(dispatcher) == [
        "utter_faq_suggestions",
        "utter_ask_rephrase",
        "utter_offer_human_after_failures",
    ]
    assert slots_set(events)["handoff_reason"] == "repeated_fallback"
    assert slots_set(events)["pending_confirmation"] == "handoff@3"
