"""Handing the conversation to a person: on request, or offered after failures and frustration."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from rasa_sdk.events import ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions.base import CrmAction
from actions.conversation import crm_channel, customer_id, failed_turns, offer_human
from actions.crm_client import CrmClient, CrmUnavailable
from actions.settings import get_settings
from actions.support_hours import SupportHours

logger = logging.getLogger(__name__)

# After this many turns in a row without help, the bot offers a person by itself.
FAILED_TURNS_BEFORE_OFFER = 2
# The slots an agent needs to pick up where the bot left off; never the email itself.
SUMMARY_SLOTS = ("request", "verified_order", "verified_ticket", "faq_answered", "verification_failures")
# Intents that only answer or steer the bot ("yes", "ok", "a person please") say nothing
# about why the customer came.
_ANSWER_INTENTS = frozenset({
    "affirm", "deny", "inform", "nlu_fallback", "choose_faq", "thank", "greet",
    "goodbye", "bot_challenge", "stop", "frustrated", "contact_human_agent",
})  # fmt: skip


def utcnow() -> datetime:
    """The current time, in one place so that tests can move it in and out of support hours."""
    return datetime.now(timezone.utc)


def conversation_summary(tracker: Tracker) -> dict[str, Any]:
    """What the bot knew: the customer's goal, the slots that matter, the order in question."""
    intents: list[str] = []
    form_active = False
    for event in tracker.events:
        if event.get("event") == "active_loop":
            form_active = bool(event.get("name"))
        elif event.get("event") == "user" and not form_active:
            # Messages inside a form answer its questions: their intent says nothing of the goal.
            name = (event.get("parse_data") or {}).get("intent", {}).get("name")
            if name:
                intents.append(name)
    topics = [name for name in intents if name not in _ANSWER_INTENTS]
    summary: dict[str, Any] = {
        "intent": topics[-1] if topics else (intents[-1] if intents else None),
        "intents": topics[-5:],
        "verified": tracker.get_slot("verified_order") is not None or customer_id(tracker) is not None,
        "failed_turns": failed_turns(tracker),
    }
    summary.update(
        {name: tracker.get_slot(name) for name in SUMMARY_SLOTS if tracker.get_slot(name) is not None}
    )
    if tracker.get_slot("verified_order"):
        summary["order"] = tracker.get_slot("verified_order")
    return summary


def offline_ticket(
    dispatcher: CollectingDispatcher, response: str = "utter_no_agents_online"
) -> list[EventType]:
    """Nobody can answer now: collect what a ticket needs, answered by email."""
    dispatcher.utter_message(response=response)
    return [
        SlotSet("handoff_reason", None),
        SlotSet("failed_turns", 0),
        SlotSet("request", "offline_handoff"),
        FollowupAction("details_form"),
    ]


async def hand_off(
    crm: CrmClient,
    hours: SupportHours,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
) -> list[EventType]:
    """Queue the conversation for a person and pause the bot; or, with nobody there, open a ticket."""
    if not hours.is_open(utcnow()):
        # Out of hours nobody will claim it: no queue entry, straight to a ticket answered by email.
        return offline_ticket(dispatcher)
    try:
        queued = await crm.request_handoff(
            sender_id=tracker.sender_id,
            reason=reason,
            channel=crm_channel(tracker),
            customer_id=customer_id(tracker),
            summary=conversation_summary(tracker),
        )
    except CrmUnavailable as exc:
        # The queue lives in the CRM: take a message instead, kept until the CRM is back.
        logger.warning("handoff impossible for %s: %s", tracker.sender_id, exc)
        return offline_ticket(dispatcher, response="utter_handoff_unavailable")
    clear = [SlotSet("handoff_reason", None), SlotSet("failed_turns", 0)]
    if queued.agents_online == 0:
        # In hours but nobody online: the handoff stays queued for whoever logs in first,
        # and the customer, who may not wait, also gets a ticket answered by email.
        return offline_ticket(dispatcher)
    dispatcher.utter_message(response="utter_handoff_queued", queue_position=queued.queue_position or 1)
    # Paused, the bot stays silent while a person answers; the agent console resumes it.
    return [*clear, ConversationPaused()]


class ActionHandoff(CrmAction):
    """The customer asked for a person (or said yes to our offer)."""

    def __init__(self, crm: CrmClient | None = None, hours: SupportHours | None = None) -> None:
        super().__init__(crm)
        self._hours = hours

    def name(self) -> str:
        return "action_handoff"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reason = tracker.get_slot("handoff_reason") or "customer_request"
        return await hand_off(
            self.crm, self._hours or get_settings().support_hours, dispatcher, tracker, reason
        )


class ActionOfferHuman(CrmAction):
    """The customer is frustrated with the bot: apologise and offer a person."""

    def name(self) -> str:
        return "action_offer_human"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return offer_human(dispatcher, tracker, reason="frustration", response="utter_offer_human_frustrated")


def count_failure(
    dispatcher: CollectingDispatcher, tracker: Tracker, response: str, **kwargs: Any
) -> list[EventType]:
    """One more turn the bot could not help with: say `response`, or offer a person if it keeps happening."""
    failures = failed_turns(tracker) + 1
    if failures >= FAILED_TURNS_BEFORE_OFFER:
        return [SlotSet("failed_turns", failures), *offer_human(
            dispatcher, tracker, reason="repeated_fallback", response="utter_offer_human_after_failures"
        )]  # fmt: skip
    dispatcher.utter_message(response=response, **kwargs)
    return [SlotSet("failed_turns", failures)]


class ActionDefaultFallback(CrmAction):
    """The dialogue policies had no confident next step: apologise, and offer a person the second time."""

    def name(self) -> str:
        return "action_default_fallback"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # Unlike Rasa's own fallback the message is kept (no UserUtteranceReverted): the
        # failure count and a pending yes/no question both count the customer's messages.
        # So the next step must be forced: listen, or the policies would fall back again.
        return [*count_failure(dispatcher, tracker, "utter_default"), FollowupAction("action_listen")]
