"""Handing over to a person: the handoff request, support hours, offers and the fallback."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest
from rasa_sdk.events import ConversationPaused, FollowupAction, SlotSet

from actions import handoff
from actions.conversation import YES_NO_BUTTONS
from actions.handoff import ActionDefaultFallback, ActionHandoff, ActionOfferHuman, conversation_summary
from actions.settings import ActionSettings
from actions.support_hours import SupportHours
from tests.actions.conftest import (
    EMPTY_DOMAIN,
    SENDER_ID,
    connection_refused,
    disabled_outbox,
    earlier_messages,
    given_outbox,
    make_tracker,
    responses,
    user,
)

HANDOFF = ("POST", "/api/handoffs")
ALWAYS = SupportHours()
OFFICE = SupportHours.parse("mon-fri 09:00-17:00", "Europe/Paris")
# Monday 30 November 2026: 10:00 in Paris is 09:00 UTC.
MONDAY_MORNING = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
MONDAY_NIGHT = datetime(2026, 11, 30, 21, 0, tzinfo=timezone.utc)
SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
OFFLINE = [
    SlotSet("handoff_reason", None),
    SlotSet("failed_turns", 0),
    SlotSet("request", "offline_handoff"),
    FollowupAction("details_form"),
]
QUEUED = [SlotSet("handoff_reason", None), SlotSet("failed_turns", 0), ConversationPaused()]


def handoff_read(agents_online: int = 2, queue_position: int | None = 3, status: int = 201) -> httpx.Response:
    return httpx.Response(
        status,
        json={"id": 9, "status": "waiting", "queue_position": queue_position, "agents_online": agents_online},
    )


async def hand_off(crm, dispatcher, slots=None, hours=ALWAYS, **tracker_args):
    tracker = make_tracker(slots, intent="contact_human_agent", text="a person please", **tracker_args)
    return await given_outbox(ActionHandoff(crm, hours=hours), disabled_outbox()).run(
        dispatcher, tracker, EMPTY_DOMAIN
    )


# --- the request -----------------------------------------------------------------------------


async def test_the_handoff_tells_the_agent_what_the_bot_knew_but_not_the_email(crm, fake_crm, dispatcher):
    fake_crm.route({HANDOFF: handoff_read()})
    slots = {
        "customer_id": "1",
        "email": "alice.martin@example.com",
        "verified_order": "ORD-100001",
        "request": "cancel",
        "verification_failures": 0.0,
        "failed_turns": 1.0,
        "handoff_reason": "verification_lockout",
    }
    history = [
        user("cancel my order", "cancel_order", channel="facebook"),
        user("ORD-100001", channel="facebook"),
    ]

    await hand_off(crm, dispatcher, slots, history=history, channel="facebook")

    assert fake_crm.calls() == [HANDOFF]
    (body,) = fake_crm.json_bodies()
    assert body == {
        "sender_id": SENDER_ID,
        "reason": "verification_lockout",
        "channel": "messenger",
        "customer_id": 1,
        "summary": {
            "intent": "cancel_order",
            "intents": ["cancel_order"],
            "verified": True,
            "failed_turns": 1,
            "request": "cancel",
            "verified_order": "ORD-100001",
            "verification_failures": 0.0,
            "order": "ORD-100001",
        },
    }
    assert "alice" not in str(body)


async def test_an_unknown_customer_is_handed_off_as_a_customer_request(crm, fake_crm, dispatcher):
    fake_crm.route({HANDOFF: handoff_read()})

    await hand_off(crm, dispatcher)

    (body,) = fake_crm.json_bodies()
    assert (body["reason"], body["customer_id"], body["channel"]) == ("customer_request", None, "web")
    assert body["summary"] == {
        "intent": "contact_human_agent",
        "intents": [],
        "verified": False,
        "failed_turns": 0,
    }


@pytest.mark.parametrize(
    ("input_channel", "crm_channel"),
    [
        ("rest", "web"),
        ("socketio", "web"),
        ("facebook", "messenger"),
        ("telegram", "telegram"),
        ("twilio", "whatsapp"),
        ("slack", "slack"),
        ("cmdline", "api"),
        (None, "api"),
    ],
)
async def test_the_channel_is_named_as_the_crm_names_it(
    input_channel, crm_channel, crm, fake_crm, dispatcher
):
    fake_crm.route({HANDOFF: handoff_read()})

    await hand_off(crm, dispatcher, channel=input_channel)

    assert fake_crm.json_bodies()[0]["channel"] == crm_channel


# --- someone to take it, or not --------------------------------------------------------------


@pytest.mark.parametrize(("position", "told"), [(3, 3), (None, 1)])
async def test_with_agents_online_the_customer_waits_in_the_queue(position, told, crm, fake_crm, dispatcher):
    fake_crm.route({HANDOFF: handoff_read(agents_online=2, queue_position=position)})

    events = await hand_off(crm, dispatcher)

    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert dispatcher.messages[0]["queue_position"] == told
    assert events == QUEUED


async def test_an_already_open_handoff_is_queued_the_same_way(crm, fake_crm, dispatcher):
    fake_crm.route({HANDOFF: handoff_read(status=200)})

    events = await hand_off(crm, dispatcher)

    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert events == QUEUED


async def test_with_nobody_online_the_details_form_opens_an_offline_ticket(crm, fake_crm, dispatcher):
    fake_crm.route({HANDOFF: handoff_read(agents_online=0, queue_position=1)})

    events = await hand_off(crm, dispatcher)

    assert responses(dispatcher) == ["utter_no_agents_online"]
    assert events == OFFLINE


@pytest.mark.parametrize("moment", [MONDAY_NIGHT, SATURDAY], ids=["monday-night", "saturday"])
async def test_outside_support_hours_an_offline_ticket_is_opened(
    moment, monkeypatch, crm, fake_crm, dispatcher
):
    monkeypatch.setattr(handoff, "utcnow", lambda: moment)
    fake_crm.route({HANDOFF: handoff_read(agents_online=2)})

    events = await hand_off(crm, dispatcher, hours=OFFICE)

    assert responses(dispatcher) == ["utter_no_agents_online"]
    assert events == OFFLINE
    assert fake_crm.requests == []  # nobody would claim it: no queue entry out of hours


async def test_inside_support_hours_the_customer_is_queued(monkeypatch, crm, fake_crm, dispatcher):
    monkeypatch.setattr(handoff, "utcnow", lambda: MONDAY_MORNING)
    fake_crm.route({HANDOFF: handoff_read(agents_online=2)})

    events = await hand_off(crm, dispatcher, hours=OFFICE)

    assert events == QUEUED


async def test_the_support_hours_come_from_the_settings_by_default(monkeypatch, crm, fake_crm, dispatcher):
    settings = ActionSettings(crm_url="http://crm.test", crm_service_token="t", support_hours=OFFICE)
    monkeypatch.setattr(handoff, "get_settings", lambda: settings)
    monkeypatch.setattr(handoff, "utcnow", lambda: SATURDAY)
    fake_crm.route({HANDOFF: handoff_read(agents_online=2)})

    await given_outbox(ActionHandoff(crm), disabled_outbox()).run(dispatcher, make_tracker(), EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_no_agents_online"]


@pytest.mark.parametrize(
    "failure", [httpx.Response(503), httpx.Response(401), connection_refused], ids=["503", "401", "refused"]
)
async def test_the_crm_down_takes_a_message_for_the_team_instead(failure, crm, fake_crm, dispatcher):
    fake_crm.route({HANDOFF: failure})

    events = await hand_off(crm, dispatcher, {"handoff_reason": "complaint", "failed_turns": 2})

    assert fake_crm.calls() == [HANDOFF]
    assert responses(dispatcher) == ["utter_handoff_unavailable"]
    # As with nobody online: the details form collects an offline ticket, which the outbox
    # keeps until the CRM is back.
    assert events == OFFLINE


# --- offers and the fallback -----------------------------------------------------------------


async def test_a_frustrated_customer_is_offered_a_person(crm, fake_crm, dispatcher):
    tracker = make_tracker(history=earlier_messages(2), intent="frustrated", text="this is useless")

    events = await ActionOfferHuman(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_offer_human_frustrated"]
    assert dispatcher.messages[0]["buttons"] == YES_NO_BUTTONS
    assert events == [SlotSet("handoff_reason", "frustration"), SlotSet("pending_confirmation", "handoff@3")]
    assert fake_crm.requests == []


async def test_the_first_fallback_asks_to_say_it_another_way(crm, dispatcher):
    events = await ActionDefaultFallback(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(text="blorp"), EMPTY_DOMAIN
    )

    assert responses(dispatcher) == ["utter_default"]
    # Listening is forced: otherwise the policies would predict the fallback again.
    assert events == [SlotSet("failed_turns", 1), FollowupAction("action_listen")]


async def test_the_second_fallback_in_a_row_offers_a_person(crm, dispatcher):
    tracker = make_tracker({"failed_turns": 1.0}, history=earlier_messages(1), text="blorp again")

    events = await ActionDefaultFallback(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_offer_human_after_failures"]
    assert dispatcher.messages[0]["buttons"] == YES_NO_BUTTONS
    assert events == [
        SlotSet("failed_turns", 2),
        SlotSet("handoff_reason", "repeated_fallback"),
        SlotSet("pending_confirmation", "handoff@2"),
        FollowupAction("action_listen"),
    ]


def test_the_summary_goal_ignores_answers_the_nlu_misread_inside_a_form():
    # An email typed into the order form was read as a complaint: the goal is still tracking.
    history = [
        user("where is my order", "track_order"),
        {"event": "active_loop", "timestamp": None, "name": "order_lookup_form"},
        user("ORD-100001"),
        user("nobody@example.com", "complaint"),
        {"event": "active_loop", "timestamp": None, "name": None},
    ]
    tracker = make_tracker({"verified_order": None}, history=history, text="yes", intent="affirm")

    summary = conversation_summary(tracker)

    assert summary["intent"] == "track_order"
    assert summary["intents"] == ["track_order"]
    assert "email" not in summary
