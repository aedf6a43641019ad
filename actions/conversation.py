"""What actions read from and write to the conversation: identity, channel, confirmations, offers."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker

from actions.crm_client import OwnershipProof
from actions.identity import token_customer_id

logger = logging.getLogger(__name__)

# Rasa's input channel names → the CRM's channel names.
CRM_CHANNELS = {
    "rest": "web",
    "socketio": "web",
    "facebook": "messenger",
    "telegram": "telegram",
    "twilio": "whatsapp",
    "slack": "slack",
}

YES_NO_BUTTONS = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def crm_channel(tracker: Tracker) -> str:
    """The CRM's name for the channel the customer is writing on."""
    return CRM_CHANNELS.get(tracker.get_latest_input_channel() or "", "api")


def customer_id(tracker: Tracker) -> int | None:
    """The customer this conversation has proven to be (verified order, or a signed widget token)."""
    value = tracker.get_slot("customer_id")
    try:
        if value not in (None, ""):
            return int(value)
    except (TypeError, ValueError):
        pass
    return token_customer_id(tracker)


def ownership_proof(tracker: Tracker) -> OwnershipProof | None:
    """How to prove to the CRM that an order or ticket is this customer's, if we can."""
    known = customer_id(tracker)
    if known is not None:
        return {"customer_id": known}
    email = tracker.get_slot("email")
    return {"email": email} if email else None


def user_turns(tracker: Tracker) -> int:
    """How many messages the customer has sent: a clock for 'the question I just asked'."""
    return sum(1 for event in tracker.events if event.get("event") == "user")


def ask_confirmation(tracker: Tracker, kind: str) -> EventType:
    """Remember that the bot's last message asks the customer to confirm `kind`.

    The answer only counts if it is the very next message: a "yes" three topics later
    must never cancel an order.
    """
    return SlotSet("pending_confirmation", f"{kind}@{user_turns(tracker)}")


def pending_confirmation(tracker: Tracker) -> str | None:
    """What the customer's yes/no answers, if the previous bot message asked for it."""
    kind, current = _asked(tracker)
    return kind if current else None


def earlier_question(tracker: Tracker) -> str | None:
    """A yes/no question asked before the previous bot message, left unanswered."""
    kind, current = _asked(tracker)
    return None if current else kind


def _asked(tracker: Tracker) -> tuple[str | None, bool]:
    value = tracker.get_slot("pending_confirmation")
    if not isinstance(value, str) or "@" not in value:
        return None, False
    kind, _, asked_at = value.rpartition("@")
    if not kind or not asked_at.isdigit():
        return None, False
    # The question was asked after message N; the answer is message N + 1.
    return kind, int(asked_at) == user_turns(tracker) - 1


def offer_human(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, reason: str, response: str = "utter_offer_human"
) -> list[EventType]:
    """Offer a colleague; a yes runs the handoff with `reason` (action_resolve_confirmation)."""
    dispatcher.utter_message(response=response, buttons=YES_NO_BUTTONS)
    return [SlotSet("handoff_reason", reason), ask_confirmation(tracker, "handoff")]


def failed_turns(tracker: Tracker) -> int:
    """Consecutive turns the bot could not help with."""
    value = tracker.get_slot("failed_turns")
    return int(value) if isinstance(value, int | float) else 0


def latest_intent(tracker: Tracker) -> str | None:
    intent: dict[str, Any] = (tracker.latest_message or {}).get("intent") or {}
    name = intent.get("name")
    return str(name) if name else None


# While the CRM is down a message still gets through (tickets wait in the outbox), and a
# person is still reachable (the handoff falls back to such a message).
CRM_DOWN_BUTTONS = [
    {"title": "Leave a message", "payload": "/open_ticket"},
    {"title": "Talk to a person", "payload": "/contact_human_agent"},
]


def crm_down(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Say plainly that the CRM is unreachable, offer a message or a person, and carry on."""
    logger.warning("CRM unreachable during conversation %s", tracker.sender_id)
    dispatcher.utter_message(response="utter_crm_unavailable", buttons=CRM_DOWN_BUTTONS)
    return []


def verification_blocked(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """After a lookup form: why it ended without a verified number (lockout, CRM down), if it did."""
    if tracker.get_slot("verification_locked"):
        return offer_human(
            dispatcher, tracker, reason="verification_lockout", response="utter_verification_locked"
        )
    if tracker.get_slot("crm_unreachable"):
        return [SlotSet("crm_unreachable", None), *crm_down(dispatcher, tracker)]
    return None
