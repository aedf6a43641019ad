"""Requests that need the customer's own words: tickets, complaints, reviews, returns,
ticket updates, contact changes and the newsletter.

One form (`details_form`) asks for whatever the request needs — a description, a
category, a new email or phone, the customer's email when we don't know them — and
`action_submit_details` writes it to the CRM.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.base import CrmAction
from actions.conversation import crm_channel, crm_down, customer_id, offer_human, ownership_proof, user_turns
from actions.crm_client import CrmUnavailable, OrderNotFound, Refused, Rejected, TicketNotFound
from actions.formatting import mask_email, normalize_email, redact_payment_details
from actions.verification import ValidatesEmail

logger = logging.getLogger(__name__)

# What each request needs from the customer, beyond their email when we don't know them.
REQUEST_SLOTS: dict[str, list[str]] = {
    "ticket": ["ticket_category", "details"],
    "complaint": ["details"],
    "review": ["details"],
    "return": ["details"],
    "ticket_info": ["details"],
    "contact": ["new_contact"],
    "newsletter": [],
    "offline_handoff": [],
}
# Requests whose answer reaches the customer by email: we must know where to write.
NEEDS_CONTACT = frozenset({"ticket", "complaint", "newsletter", "offline_handoff"})
DETAIL_SLOTS = ("details", "ticket_category", "new_contact")

# Button title or keyword → the CRM's ticket category.
TICKET_CATEGORIES = {
    "delivery": "shipping",
    "shipping": "shipping",
    "return": "return",
    "refund": "refund",
    "payment": "payment",
    "invoice": "payment",
    "account": "account",
    "password": "account",
    "website": "technical",
    "technical": "technical",
    # After the specific words: "a refund for my order" is about the refund.
    "order": "order",
    "something else": "other",
    "other": "other",
}
CATEGORY_BUTTONS = [
    {"title": title, "payload": title}
    for title in ("Order", "Delivery", "Return", "Refund", "Payment", "Account", "Something else")
]
PHONE_INPUT = re.compile(r"^\+?[\d ()./-]{7,24}$")
MIN_DETAILS_LENGTH = 3


def ticket_category(text: str) -> str | None:
    """The category a button title or a short answer names, if any."""
    lowered = text.strip().lower()
    if lowered in TICKET_CATEGORIES:
        return TICKET_CATEGORIES[lowered]
    return next((category for word, category in TICKET_CATEGORIES.items() if word in lowered), None)


def normalize_phone(raw: str) -> str | None:
    """A phone number as the customer wrote it, if it has the shape of one (9–15 digits)."""
    text = raw.strip()
    digits = re.sub(r"\D", "", text)
    return text if PHONE_INPUT.match(text) and 9 <= len(digits) <= 15 else None


class ValidateDetailsForm(ValidatesEmail, FormValidationAction):
    """Asks what the current request needs, and checks each answer's shape."""

    def name(self) -> str:
        return "validate_details_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        request = tracker.get_slot("request") or "ticket"
        needed = list(REQUEST_SLOTS.get(request, ["details"]))
        if request in NEEDS_CONTACT and customer_id(tracker) is None:
            needed.append("email")
        return needed

    def validate_details(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = value.strip() if isinstance(value, str) else ""
        if len(text) < MIN_DETAILS_LENGTH:
            dispatcher.utter_message(response="utter_details_too_short")
            return {"details": None}
        redacted, had_payment_details = redact_payment_details(text)
        if had_payment_details:
            dispatcher.utter_message(response="utter_payment_details_removed")
        return {"details": redacted}

    def validate_ticket_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        category = ticket_category(value) if isinstance(value, str) else None
        if category is None:
            dispatcher.utter_message(response="utter_invalid_ticket_category", buttons=CATEGORY_BUTTONS)
        return {"ticket_category": category}

    def validate_new_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        raw = value if isinstance(value, str) else ""
        contact = normalize_email(raw) or normalize_phone(raw)
        if contact is None:
            dispatcher.utter_message(response="utter_invalid_contact")
        return {"new_contact": contact}


class ActionAskDetails(Action):
    """Ask for the description in the words that fit the request."""

    def name(self) -> str:
        return "action_ask_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        request = tracker.get_slot("request") or "ticket"
        known = {"ticket", "complaint", "review", "return", "ticket_info"}
        dispatcher.utter_message(
            response=f"utter_ask_details_{request if request in known else 'ticket'}",
            ticket_number=tracker.get_slot("verified_ticket") or "your ticket",
        )
        return []


class ActionAskDetailsFormEmail(Action):
    """Ask for the email in the details form: where to answer, or where the newsletter goes."""

    def name(self) -> str:
        return "action_ask_details_form_email"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        newsletter = tracker.get_slot("request") == "newsletter"
        dispatcher.utter_message(
            response="utter_ask_email_for_newsletter" if newsletter else "utter_ask_email_to_answer"
        )
        return []


class ActionAskTicketCategory(Action):
    """Ask what the ticket is about, with one button per category."""

    def name(self) -> str:
        return "action_ask_ticket_category"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_ask_ticket_category", buttons=CATEGORY_BUTTONS)
        return []


class ActionSubmitDetails(CrmAction):
    """After the details form: write the request to the CRM and tell the customer what happens next."""

    def name(self) -> str:
        return "action_submit_details"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clear: list[EventType] = [SlotSet(name, None) for name in DETAIL_SLOTS] + [SlotSet("request", None)]
        request = tracker.get_slot("request") or "ticket"
        try:
            events = await self._submit(request, dispatcher, tracker)
        except CrmUnavailable:
            # What the customer wrote stays in the conversation, which a colleague reads.
            return clear + crm_down(dispatcher, tracker)
        except Rejected as rejection:
            logger.info("CRM rejected %s for %s: %s", request, tracker.sender_id, rejection)
            dispatcher.utter_message(response="utter_value_rejected")
            return clear
        return clear + events

    async def _submit(
        self, request: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        if request == "return":
            return await self._open_return(dispatcher, tracker)
        if request == "ticket_info":
            return await self._add_ticket_info(dispatcher, tracker)
        if request == "contact":
            return await self._update_contact(dispatcher, tracker)
        if request == "newsletter":
            return await self._newsletter(dispatcher, tracker)
        return await self._open_ticket(request, dispatcher, tracker)

    async def _customer(self, tracker: Tracker) -> tuple[int | None, list[EventType]]:
        """The customer's id: known, or found (or created) from this chat and their email."""
        known = customer_id(tracker)
        if known is not None:
            return known, []
        email = tracker.get_slot("email")
        if not email:
            return None, []
        found = await self.crm.resolve_customer(
            channel=crm_channel(tracker), external_id=tracker.sender_id, email=email
        )
        # Not a proof of identity: an email typed in chat only tells us where to answer.
        return found, []

    async def _open_ticket(
        self, request: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        try:
            customer, events = await self._customer(tracker)
        except CrmUnavailable:
            customer, events = None, []  # found from the email when the kept ticket is delivered
        details = tracker.get_slot("details") or _recent_customer_words(tracker)
        category, priority, subject = {
            "complaint": ("complaint", "high", "Complaint"),
            "review": ("feedback", "low", "Review"),
            "offline_handoff": ("other", "normal", "Asked for a person while no one was online"),
        }.get(request, (tracker.get_slot("ticket_category") or "other", "normal", "Support request"))
        ticket: dict[str, Any] = {
            "subject": f"{subject}: {_first_line(details)}",
            "description": details,
            "category": category,
            "priority": priority,
            "channel": crm_channel(tracker),
            "customer_id": customer,
            "conversation_sender_id": tracker.sender_id,
        }
        if tracker.get_slot("verified_order"):
            ticket["order_number"] = tracker.get_slot("verified_order")
        key = f"bot-ticket-{tracker.sender_id}-{user_turns(tracker)}"
        email = tracker.get_slot("email")
        reply_to = mask_email(email) if email else "the email address on your account"
        try:
            number = await self.crm.create_ticket(ticket, idempotency_key=key)
        except CrmUnavailable:
            # Nothing is lost: the ticket waits in the outbox until the CRM is back.
            kept = await self.outbox.keep(
                ticket, email=email, channel=crm_channel(tracker), sender_id=tracker.sender_id, key=key
            )
            if not kept:
                raise
            dispatcher.utter_message(response="utter_ticket_kept", reply_to=reply_to)
            return events
        if request == "review":
            dispatcher.utter_message(response="utter_review_received")
            return events
        if request == "complaint":
            dispatcher.utter_message(
                response="utter_complaint_ticket", ticket_number=number, reply_to=reply_to
            )
            return events + offer_human(
                dispatcher, tracker, reason="complaint", response="utter_offer_human_complaint"
            )
        response = "utter_offline_ticket" if request == "offline_handoff" else "utter_ticket_created"
        dispatcher.utter_message(response=response, ticket_number=number, reply_to=reply_to)
        return events

    async def _open_return(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        number, proof = tracker.get_slot("verified_order"), ownership_proof(tracker)
        if not number or proof is None:
            dispatcher.utter_message(response="utter_something_went_wrong")
            return []
        try:
            opened = await self.crm.start_return(
                order_number=number,
                proof=proof,
                reason=tracker.get_slot("details") or "",
                idempotency_key=f"bot-return-{tracker.sender_id}-{number}",
            )
        except Refused as refusal:
            dispatcher.utter_message(response="utter_return_refused", reason=refusal.detail)
            return []
        except OrderNotFound:
            dispatcher.utter_message(response="utter_something_went_wrong")
            return []
        dispatcher.utter_message(
            response="utter_return_started", order_number=number, return_number=opened.number
        )
        return []

    async def _add_ticket_info(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        number = tracker.get_slot("verified_ticket")
        if not number:
            dispatcher.utter_message(response="utter_something_went_wrong")
            return []
        try:
            await self.crm.add_ticket_comment(number=number, text=tracker.get_slot("details") or "")
        except Refused as refusal:
            # A closed ticket takes no more comments: the CRM says why, and a new ticket is the way.
            dispatcher.utter_message(response="utter_ticket_info_refused", reason=refusal.detail)
            return []
        except TicketNotFound:
            dispatcher.utter_message(response="utter_something_went_wrong")
            return []
        dispatcher.utter_message(response="utter_ticket_info_added", ticket_number=number)
        return []

    async def _update_contact(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        customer = customer_id(tracker)
        value = tracker.get_slot("new_contact") or ""
        if customer is None:
            dispatcher.utter_message(response="utter_something_went_wrong")
            return []
        if "@" in value:
            try:
                await self.crm.update_customer(customer, {"email": value})
            except Refused:
                # Another customer already uses it: saying so would confirm that it exists.
                dispatcher.utter_message(response="utter_contact_not_changed")
                return []
            dispatcher.utter_message(response="utter_email_updated", email=mask_email(value))
            return [SlotSet("email", value)]
        await self.crm.update_customer(customer, {"phone": value})
        dispatcher.utter_message(response="utter_phone_updated", phone_end=re.sub(r"\D", "", value)[-3:])
        return []

    async def _newsletter(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        customer, events = await self._customer(tracker)
        if customer is None:
            dispatcher.utter_message(response="utter_something_went_wrong")
            return events
        subscribe = not _wants_to_unsubscribe(tracker)
        await self.crm.update_customer(customer, {"marketing_consent": subscribe})
        dispatcher.utter_message(
            response="utter_newsletter_subscribed" if subscribe else "utter_newsletter_unsubscribed"
        )
        return events


_UNSUBSCRIBE = re.compile(
    r"\b(unsub\w*|opt(?:ing)? out|stop|cancel\w*|no longer|remove me|don'?t want)\b", re.I
)


def _wants_to_unsubscribe(tracker: Tracker) -> bool:
    """Whether the message that asked about the newsletter wanted out rather than in."""
    for event in reversed(tracker.events):
        if (
            event.get("event") == "user"
            and (event.get("parse_data") or {}).get("intent", {}).get("name") == "newsletter_subscription"
        ):
            return bool(_UNSUBSCRIBE.search(event.get("text") or ""))
    return False


def _first_line(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _recent_customer_words(tracker: Tracker, count: int = 5) -> str:
    """The customer's last messages, for a ticket opened without a description (redacted)."""
    texts = [e.get("text") or "" for e in tracker.events if e.get("event") == "user" and e.get("text")]
    words = "\n".join(t for t in texts[-count:] if not t.startswith("/"))
    return redact_payment_details(words)[0] or "The customer asked for a person."
