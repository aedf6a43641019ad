"""The satisfaction question after an agent closed the conversation: a 1-5 score and a comment.

The score is stored the moment it is given, so a customer who leaves before the comment
question still counts; the comment (or a second score clicked instead of one) completes the
rating afterwards.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions.base import CrmAction
from actions.conversation import latest_intent
from actions.crm_client import CrmUnavailable, Refused, Rejected
from actions.formatting import redact_payment_details

logger = logging.getLogger(__name__)

# The CRM stores comments up to 2000 characters; longer ones are cut, not refused.
MAX_COMMENT_LENGTH = 2000
# Answers to "anything to add?" that mean "no comment".
_NO_COMMENT = re.compile(
    r"^\s*(no|nope|nah|no thanks?|no thank you|nothing|none|skip|n/?a|-|all good|that'?s all)\s*[.!]*\s*$",
    re.IGNORECASE,
)
CSAT_SLOTS = ("csat_score", "csat_handoff", "csat_comment")


def csat_score(value: Any) -> int | None:
    """The score as an integer 1-5, or None for anything else ("5", 5.0 and 5 are all 5)."""
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    if not number.is_integer() or not 1 <= number <= 5:
        return None
    return int(number)


def csat_comment(text: str | None, intent: str | None) -> str | None:
    """What the customer added, cleaned for storage; None when they declined."""
    if not text or _NO_COMMENT.match(text) or intent == "rate_service":
        # A second score button clicked instead of a comment: the new score counts, no comment.
        return None
    if intent in ("deny", "stop") and len(text.split()) <= 3:
        # "no way", "stop it": a short refusal. A longer "no, the agent was rude" is a comment.
        return None
    redacted, _found = redact_payment_details(text.strip())
    return redacted[:MAX_COMMENT_LENGTH] or None


def _clear() -> list[EventType]:
    return [SlotSet(name, None) for name in CSAT_SLOTS]


class ActionRateService(CrmAction):
    """The customer picked a score: store it on the latest closed handoff, then ask for a comment."""

    def name(self) -> str:
        return "action_rate_service"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        score = csat_score(tracker.get_slot("csat_score"))
        if score is None:
            dispatcher.utter_message(response="utter_csat_invalid_score")
            return [SlotSet("csat_score", None)]
        try:
            handoff = await self.crm.latest_resolved_handoff(sender_id=tracker.sender_id)
        except CrmUnavailable:
            logger.warning("rating for %s not stored: CRM unreachable", tracker.sender_id)
            dispatcher.utter_message(response="utter_csat_unavailable")
            return _clear()
        if handoff is None or handoff.rated:
            # An old button clicked again, or "5 stars" out of the blue: nothing to store.
            dispatcher.utter_message(response="utter_csat_nothing_to_rate")
            return _clear()
        try:
            await self.crm.rate_handoff(handoff_id=handoff.id, score=score, comment=None)
        except Refused as exc:
            # Rated meanwhile (a second tab, a retried request): the first rating stands.
            logger.info("rating of handoff %s not stored: %s", handoff.id, exc.code)
            dispatcher.utter_message(response="utter_csat_nothing_to_rate")
            return _clear()
        except CrmUnavailable:
            logger.warning("rating of handoff %s not stored: CRM unreachable", handoff.id)
            dispatcher.utter_message(response="utter_csat_unavailable")
            return _clear()
        return [
            SlotSet("csat_score", score),
            SlotSet("csat_handoff", handoff.id),
            SlotSet("csat_comment", None),
            FollowupAction("csat_form"),
        ]


class ActionSubmitCsat(CrmAction):
    """The comment question was answered (or skipped): complete the stored rating, and say thanks."""

    def name(self) -> str:
        return "action_submit_csat"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        score = csat_score(tracker.get_slot("csat_score"))
        handoff_id = tracker.get_slot("csat_handoff")
        if score is None or not isinstance(handoff_id, int | float):
            dispatcher.utter_message(response="utter_csat_nothing_to_rate")
            return _clear()
        comment = csat_comment(tracker.get_slot("csat_comment"), latest_intent(tracker))
        try:
            await self._complete(int(handoff_id), score, comment)
        except Rejected:
            # The comment could not be stored as typed: the score matters more.
            await self._complete(int(handoff_id), score, None)
        except CrmUnavailable:
            logger.warning("rating of handoff %s not stored: CRM unreachable", handoff_id)
            dispatcher.utter_message(response="utter_csat_unavailable")
            return _clear()
        dispatcher.utter_message(response="utter_csat_thanks" if score >= 4 else "utter_csat_thanks_low")
        return _clear()

    async def _complete(self, handoff_id: int, score: int, comment: str | None) -> None:
        # The score (again: a second button may have changed it) and the comment.
        try:
            await self.crm.complete_rating(handoff_id=handoff_id, score=score, comment=comment)
        except Refused as exc:
            if exc.code != "csat_not_given":
                # Completed meanwhile (another tab, a retried request): the first one stands.
                logger.info("rating of handoff %s not completed: %s", handoff_id, exc.code)
                return
            # The score was never stored (a form begun by an older action server): store both.
            try:
                await self.crm.rate_handoff(handoff_id=handoff_id, score=score, comment=comment)
            except Refused as again:
                logger.info("rating of handoff %s not stored: %s", handoff_id, again.code)
