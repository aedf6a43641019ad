"""Proving who the customer is before any order or ticket data is shown.

The forms collect an order (or ticket) number and the email on it; the CRM checks the
pair. Three failed checks in a conversation lock verification, and the bot offers a human.
A customer authenticated by the website (signed token → `customer_id`) skips the email.
"""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions.base import UsesCrm
from actions.conversation import crm_channel, customer_id
from actions.crm_client import CrmError, CrmUnavailable, OrderNotFound, OwnershipProof, TicketNotFound
from actions.formatting import normalize_email, normalize_order_number, normalize_ticket_number
from actions.recent_orders import recently_verified

logger = logging.getLogger(__name__)

MAX_VERIFICATION_ATTEMPTS = 3

# Identity attachments still running, referenced so that they are not collected mid-flight.
_attachments: set[asyncio.Task[None]] = set()


async def identity_attachments_done() -> None:
    """Wait until every identity attachment started so far has finished (tests, shutdown)."""
    while _attachments:
        await asyncio.gather(*list(_attachments))


def tries_left(count: int) -> str:
    """2 → "two more tries": the number spelled out for a customer, singular when it is one."""
    words = {1: "one more try", 2: "two more tries"}
    return words.get(count, f"{count} more tries")


def _slots_after(tracker: Tracker, events: list[EventType]) -> dict[str, Any]:
    slots = dict(tracker.slots)
    slots.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})
    return slots


def _proof(slots: dict[str, Any], tracker: Tracker) -> OwnershipProof | None:
    if slots.get("customer_id") not in (None, ""):
        return {"customer_id": int(slots["customer_id"])}
    # A customer signed in on the website (actions/identity.py) is known without a slot.
    signed_in = customer_id(tracker)
    if signed_in is not None:
        return {"customer_id": signed_in}
    return {"email": slots["email"]} if slots.get("email") else None


class ValidatesEmail:
    """The `email` slot's check, shared by every form that asks for it."""

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a syntactically valid address (lower-cased); re-ask otherwise."""
        email = normalize_email(value) if isinstance(value, str) else None
        if email is None:
            dispatcher.utter_message(response="utter_invalid_email")
        return {"email": email}


class VerifyingForm(ValidatesEmail, UsesCrm, FormValidationAction):
    """A form whose slots, once all given, are checked together against the CRM.

    Subclasses name the number slot and how to check it; this class counts failures,
    locks after three, and stops the form when the CRM can't be reached.
    """

    number_slot: str
    verified_slot: str
    not_found_response: str

    # Abstract, so that the action server does not register this base class (it has no name).
    @abstractmethod
    async def check(self, number: str, proof: OwnershipProof, tracker: Tracker) -> dict[str, Any]:
        """Ask the CRM; return the slots a success sets, raise *NotFound on a mismatch."""

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        # An empty list ends the form: the follow-up action explains why.
        if tracker.get_slot("verification_locked") or tracker.get_slot("crm_unreachable"):
            return []
        if customer_id(tracker) is not None:
            # Contact changes need to know who, not which order: a known customer is enough.
            return [] if tracker.get_slot("request") == "contact" else [self.number_slot]
        return [self.number_slot, "email"]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = await super().get_validation_events(dispatcher, tracker, domain)
        slots = _slots_after(tracker, events)
        number, proof = slots.get(self.number_slot), _proof(slots, tracker)
        if not number or proof is None or number == slots.get(self.verified_slot):
            return events
        try:
            verified = await self.check(str(number), proof, tracker)
        except (OrderNotFound, TicketNotFound):
            return events + self._failed(dispatcher, slots)
        except CrmUnavailable as exc:
            logger.warning("verification impossible for %s: %s", tracker.sender_id, exc)
            return [*events, SlotSet("crm_unreachable", True)]
        # Number + email just proved who this is (a signed-in customer was known already).
        # The customer's answer does not wait for it: it is best effort, and the CRM's resolve
        # took ~50 ms of a ~90 ms order turn (bench-bot, 2026-12-02).
        if "email" in proof and verified.get("customer_id") is not None:
            task = asyncio.create_task(
                self._attach_identity(tracker, int(verified["customer_id"]), proof["email"])
            )
            _attachments.add(task)
            task.add_done_callback(_attachments.discard)
        return [
            *events,
            SlotSet(self.verified_slot, number),
            SlotSet("verification_failures", 0),
            *(SlotSet(name, value) for name, value in verified.items()),
        ]

    async def _attach_identity(self, tracker: Tracker, proven: int, email: str | None) -> None:
        """Tell the CRM that this chat is the proven customer's, so all their channels meet in one record.

        The CRM links this conversation (and later ones of the same sender) to the customer
        and keeps the verified email, which finds them again from another channel.
        """
        try:
            await self.crm.resolve_customer(
                channel=crm_channel(tracker), external_id=tracker.sender_id, email=email, customer_id=proven
            )
        except CrmError as exc:
            # The customer is verified either way; an agent can still merge records later.
            logger.warning("channel identity of %s not attached: %s", tracker.sender_id, exc)

    def _failed(self, dispatcher: CollectingDispatcher, slots: dict[str, Any]) -> list[EventType]:
        failures = int(slots.get("verification_failures") or 0) + 1
        # Forget what failed so the form asks again from the number.
        forget = [SlotSet(self.number_slot, None), SlotSet(self.verified_slot, None)]
        if slots.get("customer_id") in (None, ""):
            forget.append(SlotSet("email", None))
        if failures >= MAX_VERIFICATION_ATTEMPTS:
            return [*forget, SlotSet("verification_failures", failures), SlotSet("verification_locked", True)]
        dispatcher.utter_message(
            response=self.not_found_response, attempts_left=tries_left(MAX_VERIFICATION_ATTEMPTS - failures)
        )
        return [*forget, SlotSet("verification_failures", failures)]


class ValidateOrderLookupForm(VerifyingForm):
    """Order number + the email on the order."""

    number_slot = "order_number"
    verified_slot = "verified_order"
    not_found_response = "utter_order_not_found"

    def name(self) -> str:
        return "validate_order_lookup_form"

    async def check(self, number: str, proof: OwnershipProof, tracker: Tracker) -> dict[str, Any]:
        order = await self.crm.lookup_order(order_number=number, proof=proof)
        # action_order_request answers from this order in the same turn instead of asking again.
        recently_verified.remember(tracker.sender_id, number, order)
        # Knowing an order's number and email proves who the customer is for the rest of
        # the conversation (contact changes, tickets) — the same proof the CRM accepts.
        return {"customer_id": order.customer_id} if order.customer_id is not None else {}

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept six or seven digits with an optional ORD- prefix; re-ask otherwise."""
        number = normalize_order_number(value) if isinstance(value, str) else None
        if number is None:
            dispatcher.utter_message(response="utter_invalid_order_number")
        return {"order_number": number}


class ValidateTicketLookupForm(VerifyingForm):
    """Ticket number + the email of the customer who owns it."""

    number_slot = "ticket_number"
    verified_slot = "verified_ticket"
    not_found_response = "utter_ticket_not_found"

    def name(self) -> str:
        return "validate_ticket_lookup_form"

    async def check(self, number: str, proof: OwnershipProof, tracker: Tracker) -> dict[str, Any]:
        await self.crm.lookup_ticket(number=number, proof=proof)
        return {}

    def validate_ticket_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept TCK-000123 in any case and spacing; re-ask otherwise."""
        number = normalize_ticket_number(value) if isinstance(value, str) else None
        if number is None:
            dispatcher.utter_message(response="utter_invalid_ticket_number")
        return {"ticket_number": number}
