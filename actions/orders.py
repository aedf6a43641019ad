"""Order requests once the order is verified: status, cancel, change address, return, refund."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions.base import CrmAction
from actions.conversation import (
    YES_NO_BUTTONS,
    ask_confirmation,
    crm_down,
    customer_id,
    ownership_proof,
    verification_blocked,
)
from actions.crm_client import CrmUnavailable, Order, OrderNotFound, Refused
from actions.formatting import describe_items, describe_status, mask_address, money
from actions.recent_orders import recently_verified

logger = logging.getLogger(__name__)

# Until the parcel leaves the warehouse its address can still change.
BEFORE_SHIPMENT = frozenset({"placed", "paid", "packed"})
OPEN_RETURNS = frozenset({"requested", "received"})
REFUND_WORDING = {
    "pending": "is being processed",
    "processing": "is being processed",
    "completed": "has been paid back",
    "failed": "could not be paid out — a colleague will contact you",
}


def tell_status(dispatcher: CollectingDispatcher, order: Order) -> None:
    """The order's status, and its tracking while it is on its way."""
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


def ask_to_cancel(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> list[EventType]:
    if order.status == "cancelled":
        dispatcher.utter_message(response="utter_order_already_cancelled", order_number=order.number)
        return []
    if not order.can_cancel:
        dispatcher.utter_message(
            response="utter_cannot_cancel_shipped",
            order_number=order.number,
            status_text=describe_status(order),
        )
        return []
    dispatcher.utter_message(
        response="utter_confirm_cancel",
        order_number=order.number,
        items=describe_items(order),
        total=money(order.total_cents, order.currency),
        buttons=YES_NO_BUTTONS,
    )
    return [ask_confirmation(tracker, "cancel_order")]


def start_address_change(dispatcher: CollectingDispatcher, order: Order) -> list[EventType]:
    if order.status not in BEFORE_SHIPMENT:
        dispatcher.utter_message(
            response="utter_cannot_change_address",
            order_number=order.number,
            status_text=describe_status(order),
        )
        return []
    dispatcher.utter_message(
        response="utter_current_address",
        order_number=order.number,
        address=mask_address(order.shipping_address),
    )
    return [FollowupAction("address_form")]


def start_return(dispatcher: CollectingDispatcher, order: Order) -> list[EventType]:
    if order.status != "delivered":
        dispatcher.utter_message(
            response="utter_cannot_return_yet", order_number=order.number, status_text=describe_status(order)
        )
        return []
    open_return = next((r for r in order.returns if r.status in OPEN_RETURNS), None)
    if open_return is not None:
        dispatcher.utter_message(
            response="utter_return_already_open", order_number=order.number, return_number=open_return.number
        )
        return []
    if order.return_window_ends is None or order.return_window_ends < datetime.now(timezone.utc):
        closed = f"{order.return_window_ends:%-d %B}" if order.return_window_ends else "already"
        dispatcher.utter_message(
            response="utter_return_window_closed", order_number=order.number, closed_on=closed
        )
        return []
    # The reason is asked by details_form; action_submit_details opens the return.
    return [FollowupAction("details_form")]


def tell_refunds(dispatcher: CollectingDispatcher, order: Order) -> list[EventType]:
    if not order.refunds:
        response = "utter_no_refund_returnable" if order.status == "delivered" else "utter_no_refund"
        dispatcher.utter_message(response=response, order_number=order.number)
        return []
    for refund in order.refunds:
        dispatcher.utter_message(
            response="utter_refund_status",
            order_number=order.number,
            amount=money(refund.amount_cents, refund.currency),
            refund_status=REFUND_WORDING.get(refund.status, refund.status),
            created=f"{refund.created_at:%-d %B}",
        )
    return []


class ActionOrderRequest(CrmAction):
    """After the order form: do what the customer asked for with the verified order."""

    def name(self) -> str:
        return "action_order_request"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if (blocked := verification_blocked(dispatcher, tracker)) is not None:
            return blocked
        request = tracker.get_slot("request") or "track"
        if request == "contact" and customer_id(tracker) is not None:
            # Verification was only the way in: the details form asks for the new value.
            return [FollowupAction("details_form")]
        number, proof = tracker.get_slot("verified_order"), ownership_proof(tracker)
        if not number or proof is None:
            # Reached without a verified order (a story jumped here): collect it first.
            return [FollowupAction("order_lookup_form")]
        # The form verified this order moments ago in the same turn: answer from that lookup.
        order = recently_verified.take(tracker.sender_id, str(number))
        if order is None:
            try:
                order = await self.crm.lookup_order(order_number=number, proof=proof)
            except OrderNotFound:
                dispatcher.utter_message(response="utter_order_not_found", attempts_left="a few more tries")
                return [SlotSet("verified_order", None), SlotSet("order_number", None)]
            except CrmUnavailable:
                return crm_down(dispatcher, tracker)
        events = self._carry_out(request, dispatcher, tracker, order)
        # The details form still needs to know what it collects for; otherwise the request is done.
        if FollowupAction("details_form") in events:
            return events
        return [*events, SlotSet("request", None)]

    @staticmethod
    def _carry_out(
        request: str, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order
    ) -> list[EventType]:
        if request == "cancel":
            return ask_to_cancel(dispatcher, tracker, order)
        if request == "change_address":
            return start_address_change(dispatcher, order)
        if request == "return":
            return start_return(dispatcher, order)
        if request == "refund":
            return tell_refunds(dispatcher, order)
        tell_status(dispatcher, order)
        return []


async def cancel_verified_order(
    action: CrmAction, dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType]:
    """The customer said yes to "cancel order X?": cancel it in the CRM and say what happens next."""
    number, proof = tracker.get_slot("verified_order"), ownership_proof(tracker)
    if not number or proof is None:
        dispatcher.utter_message(response="utter_something_went_wrong")
        return []
    try:
        # One key per order: a retried "yes" cancels once.
        order = await action.crm.cancel_order(
            order_number=number, proof=proof, idempotency_key=f"bot-cancel-{tracker.sender_id}-{number}"
        )
    except Refused as refusal:
        dispatcher.utter_message(response="utter_cancel_refused", reason=refusal.detail)
        return [SlotSet("request", None)]
    except CrmUnavailable:
        return crm_down(dispatcher, tracker)
    refund = next((r for r in order.refunds if r.status == "pending"), None)
    dispatcher.utter_message(response="utter_order_cancelled", order_number=order.number)
    if refund is not None:
        dispatcher.utter_message(
            response="utter_refund_on_its_way", amount=money(refund.amount_cents, refund.currency)
        )
    return [SlotSet("request", None)]


class ValidateAddressForm(FormValidationAction):
    """The new delivery address, one part at a time, each checked for shape."""

    def name(self) -> str:
        return "validate_address_form"

    def validate_address_line1(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = value.strip() if isinstance(value, str) else ""
        if not 3 <= len(text) <= 200 or not any(c.isalpha() for c in text):
            dispatcher.utter_message(response="utter_invalid_address_line1")
            return {"address_line1": None}
        return {"address_line1": text}

    def validate_address_postal_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = value.strip().upper() if isinstance(value, str) else ""
        if (
            not 2 <= len(text) <= 10
            or not any(c.isdigit() for c in text)
            or not text.replace(" ", "").replace("-", "").isalnum()
        ):
            dispatcher.utter_message(response="utter_invalid_postal_code")
            return {"address_postal_code": None}
        return {"address_postal_code": text}

    def validate_address_city(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = value.strip() if isinstance(value, str) else ""
        if not 2 <= len(text) <= 100 or any(c.isdigit() for c in text):
            dispatcher.utter_message(response="utter_invalid_city")
            return {"address_city": None}
        return {"address_city": text.title() if text.islower() else text}


ADDRESS_SLOTS = ("address_line1", "address_postal_code", "address_city")


class ActionChangeAddress(CrmAction):
    """After the address form: send the verified order to the new address."""

    def name(self) -> str:
        return "action_change_address"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clear = [SlotSet(name, None) for name in ADDRESS_SLOTS] + [SlotSet("request", None)]
        number, proof = tracker.get_slot("verified_order"), ownership_proof(tracker)
        if not number or proof is None:
            return [*clear, FollowupAction("order_lookup_form")]
        try:
            current = await self.crm.lookup_order(order_number=number, proof=proof)
            address = {
                # The recipient and country stay; a move abroad needs a person (customs, prices).
                **current.shipping_address,
                "line1": tracker.get_slot("address_line1"),
                "line2": None,
                "postal_code": tracker.get_slot("address_postal_code"),
                "city": tracker.get_slot("address_city"),
            }
            order = await self.crm.change_shipping_address(order_number=number, proof=proof, address=address)
        except Refused as refusal:
            dispatcher.utter_message(response="utter_address_change_refused", reason=refusal.detail)
            return clear
        except (CrmUnavailable, OrderNotFound):
            return [*clear, *crm_down(dispatcher, tracker)]
        dispatcher.utter_message(
            response="utter_address_changed",
            order_number=order.number,
            address=mask_address(order.shipping_address),
        )
        return clear
