"""How order data is worded for customers, and what is never shown to them."""

from __future__ import annotations

import re

from actions.crm_client import Order

STATUS_WORDING = {
    "placed": "placed, and we're waiting for the payment to be confirmed",
    "paid": "paid, and our warehouse is preparing it",
    "packed": "packed and about to be handed to the carrier",
    "shipped": "on its way",
    "delivered": "delivered",
    "cancelled": "cancelled",
    "returned": "returned to us",
}

ORDER_NUMBER_INPUT = re.compile(r"^\s*(?:#|ord(?:er)?[\s#:-]*)?\s*(\d{6,7})\s*$", re.IGNORECASE)
EMAIL_INPUT = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def normalize_order_number(raw: str) -> str | None:
    """ "ord 104733", "#104733" or "104733" → "ORD-104733"; None if it is not one."""
    match = ORDER_NUMBER_INPUT.match(raw)
    return f"ORD-{match.group(1)}" if match else None


def normalize_email(raw: str) -> str | None:
    """The address lower-cased and trimmed, or None if it is not an email address."""
    candidate = raw.strip().strip("<>.,;").lower()
    return candidate if EMAIL_INPUT.match(candidate) else None


def mask_email(email: str) -> str:
    """ "alice.martin@example.com" → "a***@example.com": enough to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def describe_items(order: Order) -> str:
    """ "2 × Slim-fit jeans, 1 × Wool cap"."""
    return ", ".join(f"{item.quantity} × {item.name}" for item in order.items)


def describe_status(order: Order) -> str:
    """The status in words, with the delivery date when there is one."""
    wording = STATUS_WORDING.get(order.status, order.status)
    if order.status == "delivered":
        delivered = [s.delivered_at for s in order.shipments if s.delivered_at]
        if delivered:
            wording += f" on {max(delivered):%A %-d %B}"
    return wording
