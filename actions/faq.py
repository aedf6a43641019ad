"""Knowledge-base answers: the CRM's FAQ search, with suggestions when it is not sure."""

from __future__ import annotations

import json
import logging

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions.base import CrmAction
from actions.conversation import ask_confirmation, failed_turns
from actions.crm_client import CrmUnavailable, FaqHit
from actions.handoff import FAILED_TURNS_BEFORE_OFFER, count_failure

logger = logging.getLogger(__name__)

# Below this score a "did you mean" suggestion is noise rather than help: the search's
# answer threshold is calibrated by `make eval-faq`, and a suggestion may be less sure than
# an answer, but not arbitrarily so.
SUGGESTION_MIN_SCORE = 0.40
MAX_SUGGESTIONS = 3


def suggestion_buttons(hits: tuple[FaqHit, ...]) -> list[dict[str, str]]:
    """One button per likely article; pressing it sends the article's id back as an entity."""
    return [
        {"title": hit.question, "payload": "/choose_faq" + json.dumps({"faq_article": hit.id})}
        for hit in hits[:MAX_SUGGESTIONS]
        if hit.score >= SUGGESTION_MIN_SCORE
    ]


class ActionAnswerFaq(CrmAction):
    """Answer the customer's question from the knowledge base (the CRM's FAQ search)."""

    def name(self) -> str:
        return "action_answer_faq"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        chosen = tracker.get_slot("faq_article")
        try:
            if chosen:
                return await self._answer_chosen(dispatcher, tracker, str(chosen))
            message = tracker.latest_message or {}
            out_of_scope = (message.get("intent") or {}).get("name") == "out_of_scope"
            return await self._answer_question(dispatcher, tracker, message.get("text") or "", out_of_scope)
        except CrmUnavailable as exc:
            logger.warning("FAQ search unavailable for %s: %s", tracker.sender_id, exc)
            dispatcher.utter_message(response="utter_faq_unavailable")
            return [SlotSet("faq_article", None)]

    async def _answer_chosen(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, article_id: str
    ) -> list[EventType]:
        article = await self.crm.faq_article(article_id)
        if article is None:
            dispatcher.utter_message(response="utter_faq_no_answer")
        else:
            dispatcher.utter_message(text=article.answer)
        return [
            SlotSet("faq_article", None),
            SlotSet("faq_answered", article.id if article else None),
            SlotSet("failed_turns", 0 if article else failed_turns(tracker)),
        ]

    async def _answer_question(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, question: str, out_of_scope: bool
    ) -> list[EventType]:
        if not question.strip() or question.startswith("/"):
            # A button payload or an empty message is not a question to search for.
            dispatcher.utter_message(response="utter_faq_no_answer")
            return []
        search = await self.crm.search_faq(question)
        if search.answered:
            best = search.hits[0]
            dispatcher.utter_message(text=best.answer)
            return [SlotSet("faq_answered", best.id), SlotSet("failed_turns", 0)]
        # A request the NLU finds out of scope gets no guesses: only a confident article
        # overrides the refusal.
        if out_of_scope:
            dispatcher.utter_message(response="utter_out_of_scope")
            return [SlotSet("faq_answered", None)]
        buttons = suggestion_buttons(search.hits)
        if not buttons or failed_turns(tracker) + 1 >= FAILED_TURNS_BEFORE_OFFER:
            # Nothing to suggest, or suggestions already failed: rephrase, or a person.
            return [SlotSet("faq_answered", None), *count_failure(dispatcher, tracker, "utter_faq_no_answer")]
        # First stage of the fallback: "did you mean…?" with the closest articles.
        buttons.append({"title": "None of these", "payload": "/deny"})
        dispatcher.utter_message(response="utter_faq_suggestions", buttons=buttons)
        return [
            SlotSet("faq_answered", None),
            SlotSet("failed_turns", failed_turns(tracker) + 1),
            ask_confirmation(tracker, "faq_suggestions"),
        ]
