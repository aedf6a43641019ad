"""Order flows: identify the order (form), then tell its status and tracking."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions.base import CrmAction
from actions.crm_client import CrmUnavailable, OrderNotFound
from actions.formatting import describe_items, describe_status, normalize_email, normalize_order_number

logger = logging.getLogger(__name__)


class ValidateOrderLookupForm(FormValidationAction):
    """Check the shape of the order number and email before anything reaches the CRM."""

    def name(self) -> str:
        return "validate_order_lookup_form"

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept six digits with an optional ORD- prefix; re-ask otherwise."""
        number = normalize_order_number(value) if isinstance(value, str) else None
        if number is None:
            dispatcher.utter_message(response="utter_invalid_order_number")
        return {"order_number": number}

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a syntactically valid address; re-ask otherwise."""
        email = normalize_email(value) if isinstance(value, str) else None
        if email is None:
            dispatcher.utter_message(response="utter_invalid_email")
        return {"email": email}


class ActionCheckOrderStatus(CrmAction):
    """Look the order up in the CRM and tell the customer its status and tracking."""

    def name(self) -> str:
        return "action_check_order_status"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        order_number = tracker.get_slot("order_number")
        email = tracker.get_slot("email")
        if not order_number or not email:
            # Reached without a verified pair (e.g. a story jumped here): collect it first.
            return [FollowupAction("order_lookup_form")]
        try:
            order = await self.crm.lookup_order(order_number=order_number, email=email)
        except OrderNotFound:
            dispatcher.utter_message(response="utter_order_not_found")
            # Forget both values so the customer can try again from the start.
            return [SlotSet("order_number", None), SlotSet("email", None)]
        except CrmUnavailable as exc:
            logger.warning("order lookup failed: %s", exc)
            dispatcher.utter_message(response="utter_crm_unavailable")
            return []

        dispatcher.utter_message(
            response="utter_order_status",
            order_number=order.number,
            items=describe_items(order),
            status_text=describe_status(order),
        )
        in_transit = [s for s in order.shipments if s.delivered_at is None]
        if order.status == "shipped" and in_transit:
            shipment = in_transit[-1]
            dispatcher.utter_message(
                response="utter_order_tracking",
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                estimated_delivery=f"{shipment.estimated_delivery:%A %-d %B}"
                if shipment.estimated_delivery
                else "soon",
                tracking_url=shipment.tracking_url or "",
            )
        return []
