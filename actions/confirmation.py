"""Yes and no: they answer the question the bot just asked, or nothing at all."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions.base import CrmAction
from actions.conversation import (
    YES_NO_BUTTONS,
    ask_confirmation,
    earlier_question,
    latest_intent,
    pending_confirmation,
)
from actions.crm_client import CrmClient
from actions.handoff import hand_off
from actions.orders import cancel_verified_order
from actions.settings import get_settings
from actions.support_hours import SupportHours


class ActionResolveConfirmation(CrmAction):
    """Carry out (or drop) what the customer just confirmed: a cancellation, a handoff, a suggestion."""

    def __init__(self, crm: CrmClient | None = None, hours: SupportHours | None = None) -> None:
        super().__init__(crm)
        self._hours = hours

    def name(self) -> str:
        return "action_resolve_confirmation"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        kind, yes = pending_confirmation(tracker), latest_intent(tracker) == "affirm"
        events: list[EventType] = [SlotSet("pending_confirmation", None)]
        if kind == "cancel_order":
            if yes:
                return events + await cancel_verified_order(self, dispatcher, tracker)
            dispatcher.utter_message(response="utter_order_kept")
            return [*events, SlotSet("request", None)]
        if kind == "handoff":
            if yes:
                hours = self._hours or get_settings().support_hours
                reason = tracker.get_slot("handoff_reason") or "customer_request"
                return events + await hand_off(self.crm, hours, dispatcher, tracker, reason)
            dispatcher.utter_message(response="utter_no_handoff")
            return [*events, SlotSet("handoff_reason", None)]
        if kind == "faq_suggestions" and not yes:
            # "None of these": the second stage of the fallback — rephrase, then a person.
            # The suggestions already counted this failed turn: counting it again offered a
            # person at once, and the customer was never asked to rephrase.
            dispatcher.utter_message(response="utter_ask_rephrase")
            return events
        if yes and earlier_question(tracker) == "cancel_order" and tracker.get_slot("verified_order"):
            # A "yes" after a detour (a question, then "yes"): too late to act on, too likely
            # meant for the cancellation to ignore. Ask again rather than guess.
            dispatcher.utter_message(
                response="utter_confirm_cancel_again",
                order_number=tracker.get_slot("verified_order"),
                buttons=YES_NO_BUTTONS,
            )
            return [ask_confirmation(tracker, "cancel_order")]
        dispatcher.utter_message(response="utter_happy_to_help" if yes else "utter_anything_else")
        return events
