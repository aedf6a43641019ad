"""details_form and action_submit_details: what each request needs, and how it reaches the CRM."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from rasa_sdk.events import SlotSet

from actions.details import (
    CATEGORY_BUTTONS,
    ActionAskDetails,
    ActionAskTicketCategory,
    ActionSubmitDetails,
    ValidateDetailsForm,
)
from tests.actions.conftest import (
    CRM_DOWN_BUTTONS,
    EMPTY_DOMAIN,
    FORMS_DOMAIN,
    SENDER_ID,
    connection_refused,
    disabled_outbox,
    earlier_messages,
    make_tracker,
    refusal,
    responses,
    return_json,
    slots_set,
    user,
)

CARD = "4111 1111 1111 1111"  # a test card number: passes the Luhn check
CLEARED = [
    SlotSet("details", None),
    SlotSet("ticket_category", None),
    SlotSet("new_contact", None),
    SlotSet("request", None),
]
RESOLVE = ("POST", "/api/customers/resolve")
TICKETS = ("POST", "/api/tickets")


def resolved(customer_id: int = 5) -> httpx.Response:
    return httpx.Response(
        200, json={"customer": {"id": customer_id}, "created": False, "matched_by": "email"}
    )


def ticket_created(number: str = "TCK-000777") -> httpx.Response:
    return httpx.Response(201, json={"number": number, "status": "new"})


async def submit(crm, dispatcher, slots, *, outbox=None, **tracker_args):
    """action_submit_details, with `outbox` for tickets the CRM can't take (by default one without Redis)."""
    action = ActionSubmitDetails(crm, outbox=outbox or disabled_outbox())
    return await action.run(dispatcher, make_tracker(slots, **tracker_args), EMPTY_DOMAIN)


def validator(slot: str):
    return getattr(ValidateDetailsForm(), f"validate_{slot}")


# --- what the form asks for ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "known", "unknown"),
    [
        ("ticket", ["ticket_category", "details"], ["ticket_category", "details", "email"]),
        (None, ["ticket_category", "details"], ["ticket_category", "details", "email"]),
        ("complaint", ["details"], ["details", "email"]),
        ("review", ["details"], ["details"]),
        ("return", ["details"], ["details"]),
        ("ticket_info", ["details"], ["details"]),
        ("contact", ["new_contact"], ["new_contact"]),
        ("newsletter", [], ["email"]),
        ("offline_handoff", [], ["email"]),
        ("something_new", ["details"], ["details"]),
    ],
)
async def test_the_form_asks_what_the_request_needs(request_, known, unknown, dispatcher):
    form = ValidateDetailsForm()

    with_customer = make_tracker({"request": request_, "customer_id": "1"})
    without_customer = make_tracker({"request": request_})

    assert await form.required_slots([], dispatcher, with_customer, FORMS_DOMAIN) == known
    assert await form.required_slots([], dispatcher, without_customer, FORMS_DOMAIN) == unknown


async def test_the_form_asks_the_next_missing_slot_itself(dispatcher):
    tracker = make_tracker(
        {"request": "ticket", "customer_id": "1"}, candidates={"ticket_category": "Delivery"}
    )

    events = await ValidateDetailsForm().run(dispatcher, tracker, FORMS_DOMAIN)

    assert slots_set(events) == {"ticket_category": "shipping", "requested_slot": "details"}


async def test_the_form_ends_when_the_request_needs_nothing_more(dispatcher):
    tracker = make_tracker({"request": "newsletter", "customer_id": "1"})

    events = await ValidateDetailsForm().run(dispatcher, tracker, FORMS_DOMAIN)

    assert slots_set(events) == {"requested_slot": None}


# --- the description -----------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["ok", "   ", "", None])
def test_a_description_too_short_is_asked_again(typed, dispatcher):
    assert validator("details")(typed, dispatcher, make_tracker(), EMPTY_DOMAIN) == {"details": None}
    assert responses(dispatcher) == ["utter_details_too_short"]


def test_a_description_is_kept_as_written(dispatcher):
    result = validator("details")("  The zip broke on day one.  ", dispatcher, make_tracker(), EMPTY_DOMAIN)

    assert result == {"details": "The zip broke on day one."}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (f"charge {CARD} again", "charge [card number removed] again"),
        ("card 4111-1111-1111-1111 expired", "card [card number removed] expired"),
        ("the cvv: 123 is right", "the cvv: [removed] is right"),
        ("my CVC is 1234", "my CVC is [removed]"),
        (f"{CARD} security code 999", "[card number removed] security code [removed]"),
    ],
)
def test_payment_details_are_removed_and_the_customer_warned(typed, stored, dispatcher):
    assert validator("details")(typed, dispatcher, make_tracker(), EMPTY_DOMAIN) == {"details": stored}
    assert responses(dispatcher) == ["utter_payment_details_removed"]


@pytest.mark.parametrize(
    "typed",
    [
        "tracking 1234 5678 9012 3456 shows nothing",  # 16 digits, not a card (fails the Luhn check)
        "order ORD-104233 paid 2026-11-20",
        "call me on +44 7700 900123",
    ],
)
def test_numbers_that_are_not_card_details_are_kept(typed, dispatcher):
    assert validator("details")(typed, dispatcher, make_tracker(), EMPTY_DOMAIN) == {"details": typed}
    assert dispatcher.messages == []


# --- the ticket category -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "category"),
    [
        *[
            (button["title"], category)
            for button, category in zip(
                CATEGORY_BUTTONS,
                ["order", "shipping", "return", "refund", "payment", "account", "other"],
                strict=True,
            )
        ],
        ("my delivery is late", "shipping"),
        ("I want a refund for my order", "refund"),
        ("I need an invoice", "payment"),
        ("I forgot my password", "account"),
        ("the website crashes", "technical"),
        ("something about my order", "order"),
    ],
)
def test_the_category_comes_from_a_button_or_a_keyword(typed, category, dispatcher):
    assert validator("ticket_category")(typed, dispatcher, make_tracker(), EMPTY_DOMAIN) == {
        "ticket_category": category
    }
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["hmm", "", None])
def test_an_unknown_category_is_asked_again_with_the_buttons(typed, dispatcher):
    assert validator("ticket_category")(typed, dispatcher, make_tracker(), EMPTY_DOMAIN) == {
        "ticket_category": None
    }
    assert responses(dispatcher) == ["utter_invalid_ticket_category"]
    assert dispatcher.messages[0]["buttons"] == CATEGORY_BUTTONS


# --- new contact details -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("New.Address@Example.com", "new.address@example.com"),
        ("+44 7700 900123", "+44 7700 900123"),
        ("06 12 34 56 78", "06 12 34 56 78"),
        ("+33 (0)6-12-34-56-78", "+33 (0)6-12-34-56-78"),
    ],
)
def test_a_new_email_or_phone_is_accepted(typed, stored, dispatcher):
    assert validator("new_contact")(typed, dispatcher, make_tracker(), EMPTY_DOMAIN) == {
        "new_contact": stored
    }
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["12345", "call me maybe", "alice@", "+1 234", "1" * 16, None])
def test_something_neither_email_nor_phone_is_asked_again(typed, dispatcher):
    assert validator("new_contact")(typed, dispatcher, make_tracker(), EMPTY_DOMAIN) == {"new_contact": None}
    assert responses(dispatcher) == ["utter_invalid_contact"]


@pytest.mark.parametrize(("typed", "stored"), [("Bob@Example.com", "bob@example.com"), ("bob", None)])
def test_the_email_to_answer_to_is_checked(typed, stored, dispatcher):
    assert validator("email")(typed, dispatcher, make_tracker(), EMPTY_DOMAIN) == {"email": stored}
    assert responses(dispatcher) == ([] if stored else ["utter_invalid_email"])


# --- asking --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "response"),
    [
        ("ticket", "utter_ask_details_ticket"),
        ("complaint", "utter_ask_details_complaint"),
        ("review", "utter_ask_details_review"),
        ("return", "utter_ask_details_return"),
        ("ticket_info", "utter_ask_details_ticket_info"),
        ("offline_handoff", "utter_ask_details_ticket"),
        (None, "utter_ask_details_ticket"),
    ],
)
async def test_the_description_is_asked_in_the_words_of_the_request(request_, response, dispatcher):
    tracker = make_tracker({"request": request_, "verified_ticket": "TCK-000123"})

    assert await ActionAskDetails().run(dispatcher, tracker, EMPTY_DOMAIN) == []
    assert responses(dispatcher) == [response]
    assert dispatcher.messages[0]["ticket_number"] == "TCK-000123"


async def test_the_category_is_asked_with_one_button_each(dispatcher):
    await ActionAskTicketCategory().run(dispatcher, make_tracker(), EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_ask_ticket_category"]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == [
        "Order",
        "Delivery",
        "Return",
        "Refund",
        "Payment",
        "Account",
        "Something else",
    ]


# --- tickets, complaints, reviews ----------------------------------------------------------

TICKET_SLOTS = {
    "request": "ticket",
    "ticket_category": "shipping",
    "details": "My parcel arrived empty.",
    "email": "bob@example.com",
}


async def test_a_ticket_from_an_unknown_customer_finds_them_by_email_first(crm, fake_crm, dispatcher):
    fake_crm.route({RESOLVE: resolved(5), TICKETS: ticket_created()})

    events = await submit(crm, dispatcher, TICKET_SLOTS, history=earlier_messages(3), channel="telegram")

    assert fake_crm.calls() == [RESOLVE, TICKETS]
    resolve_body, ticket_body = fake_crm.json_bodies()
    assert resolve_body == {"channel": "telegram", "external_id": SENDER_ID, "email": "bob@example.com"}
    assert ticket_body == {
        "subject": "Support request: My parcel arrived empty.",
        "description": "My parcel arrived empty.",
        "category": "shipping",
        "priority": "normal",
        "channel": "telegram",
        "customer_id": 5,
        "conversation_sender_id": SENDER_ID,
    }
    assert fake_crm.requests[1].headers["Idempotency-Key"] == f"bot-ticket-{SENDER_ID}-4"
    assert responses(dispatcher) == ["utter_ticket_created"]
    assert (dispatcher.messages[0]["ticket_number"], dispatcher.messages[0]["reply_to"]) == (
        "TCK-000777",
        "b***@example.com",
    )
    # An email typed in chat says where to answer, not who the customer is.
    assert events == CLEARED


async def test_a_ticket_of_a_known_customer_names_the_verified_order(crm, fake_crm, dispatcher):
    fake_crm.route({TICKETS: ticket_created()})
    slots = {**TICKET_SLOTS, "email": None, "customer_id": "1", "verified_order": "ORD-100001"}

    await submit(crm, dispatcher, slots)

    assert fake_crm.calls() == [TICKETS]
    (body,) = fake_crm.json_bodies()
    assert (body["customer_id"], body["order_number"], body["channel"]) == (1, "ORD-100001", "web")
    assert dispatcher.messages[0]["reply_to"] == "the email address on your account"


async def test_a_ticket_is_opened_without_the_conversation_link_the_crm_does_not_know_yet(
    crm, fake_crm, dispatcher
):
    answers = iter(
        [httpx.Response(404, json={"error": "conversation_not_found", "detail": "No conversation."})]
    )
    fake_crm.route({TICKETS: lambda request: next(answers, ticket_created())})

    await submit(crm, dispatcher, {**TICKET_SLOTS, "customer_id": "1"})

    linked, unlinked = fake_crm.json_bodies()
    assert linked["conversation_sender_id"] == SENDER_ID
    assert unlinked == {k: v for k, v in linked.items() if k != "conversation_sender_id"}
    keys = [r.headers["Idempotency-Key"] for r in fake_crm.requests]
    assert keys == [f"bot-ticket-{SENDER_ID}-1", f"bot-ticket-{SENDER_ID}-1-unlinked"]
    assert responses(dispatcher) == ["utter_ticket_created"]


async def test_a_long_description_gets_a_short_subject(crm, fake_crm, dispatcher):
    fake_crm.route({TICKETS: ticket_created()})
    details = "The parcel\n was left outside " + "in the rain " * 20

    await submit(crm, dispatcher, {**TICKET_SLOTS, "customer_id": "1", "details": details})

    (body,) = fake_crm.json_bodies()
    assert body["description"] == details
    assert body["subject"].startswith("Support request: The parcel was left outside in the rain")
    assert body["subject"].endswith("…")
    assert len(body["subject"]) <= len("Support request: ") + 80


async def test_a_complaint_is_urgent_and_a_person_is_offered(crm, fake_crm, dispatcher):
    fake_crm.route({TICKETS: ticket_created("TCK-000778")})
    slots = {
        "request": "complaint",
        "details": "Rude courier.",
        "customer_id": "1",
        "email": "bob@example.com",
    }

    events = await submit(crm, dispatcher, slots, history=earlier_messages(1))

    (body,) = fake_crm.json_bodies()
    assert (body["subject"], body["category"], body["priority"]) == (
        "Complaint: Rude courier.",
        "complaint",
        "high",
    )
    assert responses(dispatcher) == ["utter_complaint_ticket", "utter_offer_human_complaint"]
    assert dispatcher.messages[0]["ticket_number"] == "TCK-000778"
    assert dispatcher.messages[0]["reply_to"] == "b***@example.com"
    assert events == [
        *CLEARED,
        SlotSet("handoff_reason", "complaint"),
        SlotSet("pending_confirmation", "handoff@2"),
    ]


async def test_a_review_is_feedback_of_low_priority(crm, fake_crm, dispatcher):
    fake_crm.route({TICKETS: ticket_created()})

    events = await submit(crm, dispatcher, {"request": "review", "details": "Lovely jeans, fast delivery!"})

    (body,) = fake_crm.json_bodies()
    assert (body["subject"], body["category"], body["priority"], body["customer_id"]) == (
        "Review: Lovely jeans, fast delivery!",
        "feedback",
        "low",
        None,
    )
    assert responses(dispatcher) == ["utter_review_received"]
    assert events == CLEARED


async def test_an_offline_handoff_ticket_carries_the_customers_recent_words(crm, fake_crm, dispatcher):
    fake_crm.route({TICKETS: ticket_created()})
    history = [
        user("my card 4111111111111111 was charged twice", "payment_issue"),
        user("/affirm", "affirm"),
        user("a person please", "contact_human_agent"),
    ]

    await submit(
        crm, dispatcher, {"request": "offline_handoff", "customer_id": "1"}, history=history, text=""
    )

    (body,) = fake_crm.json_bodies()
    assert body["description"] == "my card [card number removed] was charged twice\na person please"
    assert body["subject"] == "Asked for a person while no one was online: my card [card number removed] was charged twice a person please"  # fmt: skip
    assert (body["category"], body["priority"]) == ("other", "normal")
    assert responses(dispatcher) == ["utter_offline_ticket"]


# --- returns, ticket updates ----------------------------------------------------------------

RETURN = ("POST", "/api/orders/ORD-100001/returns")
RETURN_SLOTS = {
    "request": "return",
    "verified_order": "ORD-100001",
    "customer_id": "1",
    "details": "Too small.",
}


async def test_a_return_is_opened_with_the_reason(crm, fake_crm, dispatcher):
    fake_crm.route({RETURN: httpx.Response(201, json=return_json("RMA-000042"))})

    events = await submit(crm, dispatcher, RETURN_SLOTS)

    assert fake_crm.calls() == [RETURN]
    assert fake_crm.json_bodies() == [{"customer_id": 1, "reason": "Too small."}]
    assert fake_crm.requests[0].headers["Idempotency-Key"] == f"bot-return-{SENDER_ID}-ORD-100001"
    assert responses(dispatcher) == ["utter_return_started"]
    assert (dispatcher.messages[0]["return_number"], dispatcher.messages[0]["order_number"]) == (
        "RMA-000042",
        "ORD-100001",
    )
    assert events == CLEARED


async def test_a_refused_return_says_why(crm, fake_crm, dispatcher):
    detail = "The 30-day return window for ORD-100001 closed on 05 January 2026."
    fake_crm.route({RETURN: refusal("return_window_closed", detail)})

    events = await submit(crm, dispatcher, RETURN_SLOTS)

    assert responses(dispatcher) == ["utter_return_refused"]
    assert dispatcher.messages[0]["reason"] == detail
    assert events == CLEARED


async def test_a_return_without_a_verified_order_is_not_sent(crm, fake_crm, dispatcher):
    await submit(crm, dispatcher, {**RETURN_SLOTS, "verified_order": None})

    assert fake_crm.requests == []
    assert responses(dispatcher) == ["utter_something_went_wrong"]


COMMENT = ("POST", "/api/tickets/TCK-000123/comments")
INFO_SLOTS = {"request": "ticket_info", "verified_ticket": "TCK-000123", "details": "Photo sent by email."}


async def test_more_information_becomes_the_customers_comment(crm, fake_crm, dispatcher):
    fake_crm.route({COMMENT: httpx.Response(201, json={"id": 3, "author_kind": "customer"})})

    events = await submit(crm, dispatcher, INFO_SLOTS)

    assert fake_crm.calls() == [COMMENT]
    assert fake_crm.json_bodies() == [
        {"body": "Photo sent by email.", "is_public": True, "from_customer": True}
    ]
    assert responses(dispatcher) == ["utter_ticket_info_added"]
    assert dispatcher.messages[0]["ticket_number"] == "TCK-000123"
    assert events == CLEARED


async def test_more_information_for_a_closed_ticket_says_why_it_was_not_added(crm, fake_crm, dispatcher):
    detail = "Ticket TCK-000123 is closed; open a new ticket instead."
    fake_crm.route({COMMENT: refusal("ticket_closed", detail)})

    await submit(crm, dispatcher, INFO_SLOTS)

    assert responses(dispatcher) == ["utter_ticket_info_refused"]
    assert dispatcher.messages[0]["reason"] == detail


# --- contact details and the newsletter -----------------------------------------------------

CUSTOMER = ("PATCH", "/api/customers/1")


async def test_a_new_email_is_saved_and_confirmed_masked(crm, fake_crm, dispatcher):
    fake_crm.route({CUSTOMER: httpx.Response(200, json={"id": 1})})
    slots = {"request": "contact", "customer_id": "1", "new_contact": "new.address@example.com"}

    events = await submit(crm, dispatcher, slots)

    assert fake_crm.calls() == [CUSTOMER]
    assert fake_crm.json_bodies() == [{"email": "new.address@example.com"}]
    assert responses(dispatcher) == ["utter_email_updated"]
    assert dispatcher.messages[0]["email"] == "n***@example.com"
    assert events == [*CLEARED, SlotSet("email", "new.address@example.com")]


async def test_a_new_phone_is_saved_and_confirmed_by_its_end(crm, fake_crm, dispatcher):
    fake_crm.route({CUSTOMER: httpx.Response(200, json={"id": 1})})

    events = await submit(
        crm, dispatcher, {"request": "contact", "customer_id": "1", "new_contact": "+44 7700 900123"}
    )

    assert fake_crm.json_bodies() == [{"phone": "+44 7700 900123"}]
    assert responses(dispatcher) == ["utter_phone_updated"]
    assert dispatcher.messages[0]["phone_end"] == "123"
    assert events == CLEARED


async def test_an_email_in_use_is_refused_without_saying_so(crm, fake_crm, dispatcher):
    fake_crm.route({CUSTOMER: refusal("email_taken", "Another customer uses new.address@example.com.")})
    slots = {"request": "contact", "customer_id": "1", "new_contact": "new.address@example.com"}

    events = await submit(crm, dispatcher, slots)

    assert responses(dispatcher) == ["utter_contact_not_changed"]
    assert "new.address" not in str(dispatcher.messages)
    assert events == CLEARED


async def test_a_contact_change_without_a_known_customer_is_not_sent(crm, fake_crm, dispatcher):
    await submit(crm, dispatcher, {"request": "contact", "new_contact": "new.address@example.com"})

    assert fake_crm.requests == []
    assert responses(dispatcher) == ["utter_something_went_wrong"]


@pytest.mark.parametrize(
    ("asked", "consent", "response"),
    [
        ("subscribe me to the newsletter", True, "utter_newsletter_subscribed"),
        ("I'd like your newsletter", True, "utter_newsletter_subscribed"),
        ("unsubscribe me", False, "utter_newsletter_unsubscribed"),
        ("please stop sending me the newsletter", False, "utter_newsletter_unsubscribed"),
        ("I don't want your emails any more", False, "utter_newsletter_unsubscribed"),
    ],
)
async def test_the_newsletter_consent_follows_what_the_customer_asked(
    asked, consent, response, crm, fake_crm, dispatcher
):
    fake_crm.route({CUSTOMER: httpx.Response(200, json={"id": 1})})
    history = [user(asked, "newsletter_subscription"), user("bob@example.com", "inform")]

    events = await submit(
        crm, dispatcher, {"request": "newsletter", "customer_id": "1"}, history=history, text="ok"
    )

    assert fake_crm.json_bodies() == [{"marketing_consent": consent}]
    assert responses(dispatcher) == [response]
    assert events == CLEARED


async def test_the_newsletter_of_an_unknown_customer_finds_them_by_email(crm, fake_crm, dispatcher):
    fake_crm.route({RESOLVE: resolved(5), ("PATCH", "/api/customers/5"): httpx.Response(200, json={"id": 5})})
    history = [user("sign me up for the newsletter", "newsletter_subscription")]

    await submit(crm, dispatcher, {"request": "newsletter", "email": "bob@example.com"}, history=history)

    assert fake_crm.calls() == [RESOLVE, ("PATCH", "/api/customers/5")]
    assert fake_crm.json_bodies()[1] == {"marketing_consent": True}


# --- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [httpx.Response(503), connection_refused], ids=["503", "refused"])
async def test_the_crm_down_is_said_plainly_and_the_form_starts_clean_next_time(
    failure, crm, fake_crm, dispatcher, outbox
):
    fake_crm.route({TICKETS: failure})
    assert not outbox.enabled

    events = await submit(crm, dispatcher, {**TICKET_SLOTS, "customer_id": "1"}, outbox=outbox)

    # Without Redis the outbox can't keep the ticket: the customer is told the CRM is down,
    # and offered a message (once it is back) or a person. (Kept tickets: test_outbox.py.)
    assert responses(dispatcher) == ["utter_crm_unavailable"]
    assert dispatcher.messages[0]["buttons"] == CRM_DOWN_BUTTONS
    # The customer's words stay in the conversation; the slots are cleared so that a retry
    # asks afresh instead of silently reusing an old description.
    assert events == CLEARED


async def test_a_value_the_crm_cannot_store_is_asked_again_in_simpler_words(crm, fake_crm, dispatcher):
    errors: dict[str, Any] = {
        "error": "validation_error",
        "detail": [{"loc": ["body", "phone"], "msg": "bad"}],
    }
    fake_crm.route({CUSTOMER: httpx.Response(422, json=errors)})

    events = await submit(
        crm, dispatcher, {"request": "contact", "customer_id": "1", "new_contact": "(0)6 12 34 56 78"}
    )

    assert responses(dispatcher) == ["utter_value_rejected"]
    assert events == CLEARED
