"""The order and ticket lookup forms: the shape of what the customer types, then one CRM check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from rasa_sdk.events import SlotSet

from actions.verification import (
    MAX_VERIFICATION_ATTEMPTS,
    ValidateOrderLookupForm,
    ValidateTicketLookupForm,
    VerifyingForm,
    identity_attachments_done,
)
from tests.actions.conftest import (
    EMPTY_DOMAIN,
    FORMS_DOMAIN,
    SENDER_ID,
    connection_refused,
    make_tracker,
    not_found,
    order_json,
    responses,
    slots_set,
)

EMAIL = "alice.martin@example.com"
TICKET_BODY = {
    "number": "TCK-000123",
    "subject": "Parcel damaged",
    "status": "open",
    "category": "shipping",
    "created_at": "2026-12-01T10:00:00Z",
    "updated_at": "2026-12-02T10:00:00Z",
    "comments": [],
}


@dataclass(frozen=True)
class Lookup:
    """One of the two verifying forms, and how the CRM checks its number."""

    form: type[VerifyingForm]
    number_slot: str
    typed: str
    number: str
    path: str
    number_field: str
    verified_slot: str
    not_found_response: str
    found: dict[str, Any]


ORDER = Lookup(
    form=ValidateOrderLookupForm,
    number_slot="order_number",
    typed="ord 100001",
    number="ORD-100001",
    path="/api/orders/lookup",
    number_field="order_number",
    verified_slot="verified_order",
    not_found_response="utter_order_not_found",
    found=order_json(customer_id=42),
)
TICKET = Lookup(
    form=ValidateTicketLookupForm,
    number_slot="ticket_number",
    typed="tck 123",
    number="TCK-000123",
    path="/api/tickets/lookup",
    number_field="number",
    verified_slot="verified_ticket",
    not_found_response="utter_ticket_not_found",
    found=TICKET_BODY,
)
BOTH = pytest.mark.parametrize("lookup", [ORDER, TICKET], ids=["order", "ticket"])
RESOLVE = ("POST", "/api/customers/resolve")


def resolved(customer_id: int) -> httpx.Response:
    """The CRM's answer to /api/customers/resolve for a known customer."""
    return httpx.Response(
        200, json={"customer": {"id": customer_id}, "created": False, "matched_by": "customer_id"}
    )


def crm_finds(fake_crm, lookup: Lookup, *, resolve: httpx.Response | None = None) -> None:
    """The CRM confirms the number and accepts the channel identity (or answers `resolve`)."""
    fake_crm.route(
        {("POST", lookup.path): httpx.Response(200, json=lookup.found), RESOLVE: resolve or resolved(42)}
    )


async def validate(lookup, crm, dispatcher, slots=None, **candidates):
    tracker = make_tracker(slots, candidates=candidates, active_loop=lookup.form(crm).form_name())
    return await lookup.form(crm).run(dispatcher, tracker, FORMS_DOMAIN)


# --- the CRM check ---------------------------------------------------------------------------


@BOTH
async def test_number_and_email_are_checked_once_and_verify_the_number(lookup, crm, fake_crm, dispatcher):
    crm_finds(fake_crm, lookup)

    events = await validate(
        lookup, crm, dispatcher, {"verification_failures": 1.0},
        **{lookup.number_slot: lookup.typed, "email": "Alice.Martin@Example.com"},
    )  # fmt: skip

    assert fake_crm.calls()[0] == ("POST", lookup.path)
    assert fake_crm.json_bodies()[0] == {lookup.number_field: lookup.number, "email": EMAIL}
    slots = slots_set(events)
    assert slots[lookup.verified_slot] == lookup.number
    assert slots[lookup.number_slot] == lookup.number
    assert slots["verification_failures"] == 0
    assert dispatcher.messages == []


async def test_a_verified_order_proves_who_the_customer_is(crm, fake_crm, dispatcher):
    crm_finds(fake_crm, ORDER)

    events = await validate(ORDER, crm, dispatcher, order_number="100001", email=EMAIL)

    assert slots_set(events)["customer_id"] == 42


async def test_a_verified_ticket_says_nothing_about_the_customer(crm, fake_crm, dispatcher):
    crm_finds(fake_crm, TICKET)

    events = await validate(TICKET, crm, dispatcher, ticket_number="123", email=EMAIL)

    assert "customer_id" not in slots_set(events)
    assert RESOLVE not in fake_crm.calls()


@BOTH
async def test_a_signed_in_customer_proves_ownership_by_id_without_an_email(
    lookup, crm, fake_crm, dispatcher
):
    crm_finds(fake_crm, lookup)

    events = await validate(
        lookup, crm, dispatcher, {"customer_id": "7"}, **{lookup.number_slot: lookup.typed}
    )

    # Only the check: the chat's identity was attached when the customer was first proven.
    assert fake_crm.json_bodies() == [{lookup.number_field: lookup.number, "customer_id": 7}]
    assert slots_set(events)[lookup.verified_slot] == lookup.number
    # The form is complete: it asks for no email.
    assert SlotSet("requested_slot", None) in events


@BOTH
async def test_a_signed_in_customer_is_asked_only_for_the_number(lookup, crm, dispatcher):
    tracker = make_tracker({"customer_id": "7"})

    required = await lookup.form(crm).required_slots([], dispatcher, tracker, FORMS_DOMAIN)

    assert required == [lookup.number_slot]


async def test_anyone_else_is_asked_for_the_number_and_the_email(crm, dispatcher):
    required = await ORDER.form(crm).required_slots([], dispatcher, make_tracker(), FORMS_DOMAIN)

    assert required == ["order_number", "email"]


async def test_a_contact_change_by_a_signed_in_customer_needs_no_order(crm, dispatcher):
    tracker = make_tracker({"customer_id": "7", "request": "contact"})

    assert await ORDER.form(crm).required_slots([], dispatcher, tracker, FORMS_DOMAIN) == []


@BOTH
async def test_a_wrong_pair_is_refused_and_asked_again(lookup, crm, fake_crm, dispatcher):
    fake_crm.answer(lambda request: not_found())

    events = await validate(lookup, crm, dispatcher, **{lookup.number_slot: lookup.typed, "email": EMAIL})

    assert len(fake_crm.requests) == 1
    assert responses(dispatcher) == [lookup.not_found_response]
    assert dispatcher.messages[0]["attempts_left"] == "two more tries"
    slots = slots_set(events)
    assert (slots[lookup.number_slot], slots[lookup.verified_slot], slots["email"]) == (None, None, None)
    assert slots["verification_failures"] == 1
    assert "verification_locked" not in slots


async def test_a_wrong_number_of_a_signed_in_customer_keeps_their_identity(crm, fake_crm, dispatcher):
    fake_crm.answer(lambda request: not_found("order_not_found"))

    events = await validate(ORDER, crm, dispatcher, {"customer_id": "7"}, order_number="100001")

    slots = slots_set(events)
    assert slots["order_number"] is None
    assert "email" not in slots
    # The form asks for the number again itself.
    assert slots["requested_slot"] == "order_number"


@BOTH
async def test_the_second_failure_leaves_one_attempt(lookup, crm, fake_crm, dispatcher):
    fake_crm.answer(lambda request: not_found())

    events = await validate(
        lookup, crm, dispatcher, {"verification_failures": 1.0},
        **{lookup.number_slot: lookup.typed, "email": EMAIL},
    )  # fmt: skip

    assert dispatcher.messages[0]["attempts_left"] == "one more try"
    assert slots_set(events)["verification_failures"] == 2


@BOTH
async def test_the_third_failure_locks_verification_and_ends_the_form(lookup, crm, fake_crm, dispatcher):
    fake_crm.answer(lambda request: not_found())

    events = await validate(
        lookup, crm, dispatcher, {"verification_failures": 2.0},
        **{lookup.number_slot: lookup.typed, "email": EMAIL},
    )  # fmt: skip

    slots = slots_set(events)
    assert slots["verification_locked"] is True
    assert slots["verification_failures"] == MAX_VERIFICATION_ATTEMPTS
    assert slots["requested_slot"] is None
    # What happens next is said by action_order_request / action_ticket_request.
    assert dispatcher.messages == []


@BOTH
@pytest.mark.parametrize("stopped_by", ["verification_locked", "crm_unreachable"])
async def test_a_locked_or_unreachable_check_requires_nothing_more(lookup, stopped_by, crm, dispatcher):
    tracker = make_tracker({stopped_by: True, "customer_id": "7"})

    assert await lookup.form(crm).required_slots([], dispatcher, tracker, FORMS_DOMAIN) == []


@BOTH
@pytest.mark.parametrize(
    "failure", [lambda request: httpx.Response(503), connection_refused], ids=["503", "refused"]
)
async def test_the_crm_down_ends_the_form_without_counting_a_failure(
    lookup, failure, crm, fake_crm, dispatcher
):
    fake_crm.answer(failure)

    events = await validate(lookup, crm, dispatcher, **{lookup.number_slot: lookup.typed, "email": EMAIL})

    slots = slots_set(events)
    assert slots["crm_unreachable"] is True
    assert slots["requested_slot"] is None
    assert "verification_failures" not in slots
    assert slots[lookup.number_slot] == lookup.number
    assert dispatcher.messages == []


@BOTH
async def test_an_already_verified_number_is_not_checked_again(lookup, crm, fake_crm, dispatcher):
    slots = {lookup.verified_slot: lookup.number}

    events = await validate(
        lookup, crm, dispatcher, slots, **{lookup.number_slot: lookup.typed, "email": EMAIL}
    )

    assert fake_crm.requests == []
    assert slots_set(events)[lookup.number_slot] == lookup.number


@BOTH
async def test_nothing_is_checked_before_the_email_is_known(lookup, crm, fake_crm, dispatcher):
    events = await validate(lookup, crm, dispatcher, **{lookup.number_slot: lookup.typed})

    assert fake_crm.requests == []
    assert slots_set(events) == {lookup.number_slot: lookup.number}


async def test_an_invalid_email_is_not_sent_to_the_crm(crm, fake_crm, dispatcher):
    events = await validate(ORDER, crm, dispatcher, order_number="100001", email="alice at example")

    assert fake_crm.requests == []
    assert responses(dispatcher) == ["utter_invalid_email"]
    assert slots_set(events)["email"] is None


# --- what the customer types ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ORD-104233", "ORD-104233"),
        ("104233", "ORD-104233"),
        ("#104233", "ORD-104233"),
        ("ord 104233", "ORD-104233"),
        ("order 104233", "ORD-104233"),
        (" Order: 104233 ", "ORD-104233"),
        ("ORD-1000042", "ORD-1000042"),
    ],
)
def test_order_number_is_normalized(dispatcher, typed, stored):
    result = ValidateOrderLookupForm().validate_order_number(typed, dispatcher, make_tracker(), EMPTY_DOMAIN)
    assert result == {"order_number": stored}
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["12345", "12345678", "my order", "ORD-12A456", "TCK-000123", None])
def test_invalid_order_number_is_reasked(dispatcher, typed):
    result = ValidateOrderLookupForm().validate_order_number(typed, dispatcher, make_tracker(), EMPTY_DOMAIN)
    assert result == {"order_number": None}
    assert responses(dispatcher) == ["utter_invalid_order_number"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("TCK-000123", "TCK-000123"),
        ("tck 123", "TCK-000123"),
        ("ticket #123", "TCK-000123"),
        ("#000123", "TCK-000123"),
        ("42", "TCK-000042"),
    ],
)
def test_ticket_number_is_normalized(dispatcher, typed, stored):
    result = ValidateTicketLookupForm().validate_ticket_number(
        typed, dispatcher, make_tracker(), EMPTY_DOMAIN
    )
    assert result == {"ticket_number": stored}
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["TCK-1234567", "my ticket", "ORD-104233", "", None])
def test_invalid_ticket_number_is_reasked(dispatcher, typed):
    result = ValidateTicketLookupForm().validate_ticket_number(
        typed, dispatcher, make_tracker(), EMPTY_DOMAIN
    )
    assert result == {"ticket_number": None}
    assert responses(dispatcher) == ["utter_invalid_ticket_number"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Alice.Martin@Example.com", "alice.martin@example.com"),
        (" bob+shop@mail.co.uk. ", "bob+shop@mail.co.uk"),
        ("<carol@example.org>", "carol@example.org"),
    ],
)
def test_email_is_normalized(dispatcher, typed, stored):
    result = ValidateOrderLookupForm().validate_email(typed, dispatcher, make_tracker(), EMPTY_DOMAIN)
    assert result == {"email": stored}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "typed", ["alice", "alice@", "@example.com", "alice@example", "a b@example.com", None]
)
def test_invalid_email_is_reasked(dispatcher, typed):
    result = ValidateTicketLookupForm().validate_email(typed, dispatcher, make_tracker(), EMPTY_DOMAIN)
    assert result == {"email": None}
    assert responses(dispatcher) == ["utter_invalid_email"]


# --- the verified customer's channel identity --------------------------------------------


@pytest.mark.parametrize(("input_channel", "crm_channel"), [("rest", "web"), ("facebook", "messenger")])
async def test_a_verified_order_attaches_this_chat_to_its_customer(
    input_channel, crm_channel, crm, fake_crm, dispatcher
):
    crm_finds(fake_crm, ORDER)
    form = ORDER.form(crm)
    tracker = make_tracker(
        channel=input_channel, candidates={"order_number": "100001", "email": EMAIL},
        active_loop=form.form_name(),
    )  # fmt: skip

    await form.run(dispatcher, tracker, FORMS_DOMAIN)
    await identity_attachments_done()  # in the background: the answer does not wait for it

    assert fake_crm.calls() == [("POST", ORDER.path), RESOLVE]
    assert fake_crm.json_bodies()[1] == {
        "channel": crm_channel, "external_id": SENDER_ID, "email": EMAIL, "customer_id": 42,
    }  # fmt: skip


async def test_an_order_of_a_guest_checkout_attaches_nothing(crm, fake_crm, dispatcher):
    fake_crm.route({("POST", ORDER.path): httpx.Response(200, json=order_json(customer_id=None))})

    events = await validate(ORDER, crm, dispatcher, order_number="100001", email=EMAIL)

    assert fake_crm.calls() == [("POST", ORDER.path)]
    assert slots_set(events)["verified_order"] == "ORD-100001"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(409, json={"error": "identity_taken", "detail": "belongs to customer 9"}),
        httpx.Response(503, json={"error": "unavailable", "detail": "database down"}),
    ],
    ids=["identity-of-another-customer", "crm-down"],
)
async def test_the_customer_stays_verified_when_the_identity_is_not_attached(
    answer, crm, fake_crm, dispatcher
):
    crm_finds(fake_crm, ORDER, resolve=answer)

    events = await validate(ORDER, crm, dispatcher, order_number="100001", email=EMAIL)

    slots = slots_set(events)
    assert (slots["verified_order"], slots["customer_id"]) == ("ORD-100001", 42)
    assert "crm_unreachable" not in slots
    assert dispatcher.messages == []
