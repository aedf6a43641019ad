"""What every custom action shares: the CRM client and a safety net for the unexpected."""

from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod

from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.crm_client import CrmClient, shared_crm_client
from actions.outbox import Outbox, shared_outbox

logger = logging.getLogger(__name__)


class UsesCrm:
    """Gives an action its CRM client and the outbox for work the CRM can't take right now."""

    def __init__(self, crm: CrmClient | None = None, outbox: Outbox | None = None) -> None:
        # Tests pass a client with a fake transport; the server uses the shared one,
        # created on first use rather than at import time.
        self._crm = crm
        self._outbox = outbox

    @property
    def crm(self) -> CrmClient:
        return self._crm or shared_crm_client()

    @property
    def outbox(self) -> Outbox:
        return self._outbox or shared_outbox()


class CrmAction(UsesCrm, Action, metaclass=ABCMeta):
    """An action that talks to the CRM. Subclasses implement `act` instead of `run`.

    A bug in an action must never leave the customer without an answer: `run`
    logs the exception and apologises instead of letting rasa-sdk return an error.
    """

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The action's work."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # Kept tickets are delivered by a background task; any action (re)starts it, so one
        # kept before a restart still goes out.
        self.outbox.start_delivery(self._crm)
        try:
            return await self.act(dispatcher, tracker, domain)
        except Exception:
            logger.exception("action %s failed for conversation %s", self.name(), tracker.sender_id)
            dispatcher.utter_message(response="utter_something_went_wrong")
            return []
