"""action_ticket_request: a verified ticket's status and latest reply, or more information for it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions.tickets import ActionTicketRequest
from tests.actions.conftest import (
    CRM_DOWN_BUTTONS,
    EMPTY_DOMAIN,
    disabled_outbox,
    make_tracker,
    not_found,
    responses,
    slots_set,
)

EMAIL = "alice.martin@example.com"
VERIFIED = {
    "verified_ticket": "TCK-000123",
    "ticket_number": "TCK-000123",
    "email": EMAIL,
    "request": "ticket_status",
}
LOOKUP = ("POST", "/api/tickets/lookup")


def comment(author_kind: str, body: str) -> dict[str, Any]:
    return {"author_kind": author_kind, "body": body, "created_at": "2026-12-02T10:00:00Z"}


def ticket_json(status: str = "open", comments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "number": "TCK-000123",
        "subject": "Parcel damaged",
        "status": status,
        "category": "shipping",
        "created_at": "2026-12-01T10:00:00Z",
        "updated_at": "2026-12-02T10:00:00Z",
        "comments": comments or [],
    }


async def ticket_request(crm, dispatcher, slots=VERIFIED):
    return await ActionTicketRequest(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(slots), EMPTY_DOMAIN
    )


@pytest.mark.parametrize(
    ("status", "wording"),
    [
        ("new", "waiting for a colleague to pick it up"),
        ("open", "being worked on"),
        ("pending", "waiting for an answer from you"),
        ("solved", "solved"),
        ("closed", "closed"),
    ],
)
async def test_the_status_is_told_in_words(status, wording, crm, fake_crm, dispatcher):
    fake_crm.route({LOOKUP: httpx.Response(200, json=ticket_json(status))})

    events = await ticket_request(crm, dispatcher)

    assert fake_crm.calls() == [LOOKUP]
    assert fake_crm.json_bodies() == [{"number": "TCK-000123", "email": EMAIL}]
    (message,) = dispatcher.messages
    assert message["response"] == "utter_ticket_status"
    assert (message["ticket_number"], message["subject"], message["status_text"]) == (
        "TCK-000123",
        "Parcel damaged",
        wording,
    )
    assert events == [SlotSet("request", None)]


async def test_a_known_customer_proves_ownership_by_id(crm, fake_crm, dispatcher):
    fake_crm.route({LOOKUP: httpx.Response(200, json=ticket_json())})

    await ticket_request(crm, dispatcher, {**VERIFIED, "customer_id": "1"})

    assert fake_crm.json_bodies() == [{"number": "TCK-000123", "customer_id": 1}]


async def test_the_latest_reply_is_the_agents_not_the_customers_own(crm, fake_crm, dispatcher):
    comments = [
        comment("agent", "Could you send a photo?"),
        comment("agent", "Thanks, a replacement is on its way."),
        comment("customer", "Here is the photo."),
    ]
    fake_crm.route({LOOKUP: httpx.Response(200, json=ticket_json("pending", comments))})

    await ticket_request(crm, dispatcher)

    assert responses(dispatcher) == ["utter_ticket_status", "utter_ticket_last_reply"]
    assert dispatcher.messages[1]["reply"] == "Thanks, a replacement is on its way."


async def test_without_a_reply_only_the_status_is_told(crm, fake_crm, dispatcher):
    fake_crm.route({LOOKUP: httpx.Response(200, json=ticket_json("new", [comment("customer", "Hello?")]))})

    await ticket_request(crm, dispatcher)

    assert responses(dispatcher) == ["utter_ticket_status"]


async def test_a_ticket_no_longer_found_is_forgotten(crm, fake_crm, dispatcher):
    fake_crm.route({LOOKUP: not_found("ticket_not_found")})

    events = await ticket_request(crm, dispatcher)

    assert responses(dispatcher) == ["utter_ticket_not_found"]
    assert events == [SlotSet("verified_ticket", None), SlotSet("ticket_number", None)]


async def test_the_crm_down_offers_a_message_or_a_person(crm, fake_crm, dispatcher):
    fake_crm.route({LOOKUP: httpx.Response(504)})

    events = await ticket_request(crm, dispatcher)

    assert responses(dispatcher) == ["utter_crm_unavailable"]
    assert dispatcher.messages[0]["buttons"] == CRM_DOWN_BUTTONS
    assert events == []


async def test_adding_information_asks_for_it_in_the_details_form(crm, fake_crm, dispatcher):
    events = await ticket_request(crm, dispatcher, {**VERIFIED, "request": "ticket_info"})

    assert events == [FollowupAction("details_form")]
    assert fake_crm.requests == []
    assert dispatcher.messages == []


@pytest.mark.parametrize("slots", [{}, {"verified_ticket": "TCK-000123"}, {"email": EMAIL}])
async def test_without_a_verified_ticket_the_lookup_form_runs_first(slots, crm, fake_crm, dispatcher):
    events = await ticket_request(crm, dispatcher, slots)

    assert events == [FollowupAction("ticket_lookup_form")]
    assert fake_crm.requests == []


async def test_a_locked_verification_offers_a_person(crm, fake_crm, dispatcher):
    events = await ticket_request(crm, dispatcher, {"verification_locked": True})

    assert responses(dispatcher) == ["utter_verification_locked"]
    assert slots_set(events) == {
        "handoff_reason": "verification_lockout",
        "pending_confirmation": "handoff@1",
    }
    assert fake_crm.requests == []


async def test_an_unreachable_crm_during_the_form_is_told_and_forgotten(crm, fake_crm, dispatcher):
    events = await ticket_request(crm, dispatcher, {"crm_unreachable": True})

    assert responses(dispatcher) == ["utter_crm_unavailable"]
    assert events[0] == SlotSet("crm_unreachable", None)
    assert fake_crm.requests == []
