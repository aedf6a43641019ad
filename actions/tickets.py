"""Ticket requests once the ticket is verified: its status, or more information for it."""

from __future__ import annotations

from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions.base import CrmAction
from actions.conversation import crm_down, ownership_proof, verification_blocked
from actions.crm_client import CrmUnavailable, TicketNotFound

TICKET_STATUS_WORDING = {
    "new": "waiting for a colleague to pick it up",
    "open": "being worked on",
    "pending": "waiting for an answer from you",
    "solved": "solved",
    "closed": "closed",
}


class ActionTicketRequest(CrmAction):
    """After the ticket form: tell the ticket's status, or ask what to add to it."""

    def name(self) -> str:
        return "action_ticket_request"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if (blocked := verification_blocked(dispatcher, tracker)) is not None:
            return blocked
        number, proof = tracker.get_slot("verified_ticket"), ownership_proof(tracker)
        if not number or proof is None:
            return [FollowupAction("ticket_lookup_form")]
        if tracker.get_slot("request") == "ticket_info":
            return [FollowupAction("details_form")]
        try:
            ticket = await self.crm.lookup_ticket(number=number, proof=proof)
        except TicketNotFound:
            dispatcher.utter_message(response="utter_ticket_not_found", attempts_left="a few more tries")
            return [SlotSet("verified_ticket", None), SlotSet("ticket_number", None)]
        except CrmUnavailable:
            return crm_down(dispatcher, tracker)
        dispatcher.utter_message(
            response="utter_ticket_status",
            ticket_number=ticket.number,
            subject=ticket.subject,
            status_text=TICKET_STATUS_WORDING.get(ticket.status, ticket.status),
        )
        if ticket.last_public_reply:
            dispatcher.utter_message(response="utter_ticket_last_reply", reply=ticket.last_public_reply)
        return [SlotSet("request", None)]
