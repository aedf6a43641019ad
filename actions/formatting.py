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
TICKET_NUMBER_INPUT = re.compile(r"^\s*#?\s*(?:tck|ticket)?[\s#:-]*(\d{1,6})\s*$", re.IGNORECASE)
# Unicode letters allowed (chloé.müller@example.com); the CRM accepts them too.
EMAIL_INPUT = re.compile(r"^[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}$")


def normalize_order_number(raw: str) -> str | None:
    """ "ord 104733", "#104733" or "104733" → "ORD-104733"; None if it is not one."""
    match = ORDER_NUMBER_INPUT.match(raw)
    return f"ORD-{match.group(1)}" if match else None


def normalize_ticket_number(raw: str) -> str | None:
    """ "tck 123", "TCK-000123" or "000123" → "TCK-000123"; None if it is not one."""
    match = TICKET_NUMBER_INPUT.match(raw)
    return f"TCK-{int(match.group(1)):06d}" if match else None


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


CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


def money(cents: int, currency: str) -> str:
    """1598, "EUR" → "€15.98"; unknown currencies keep their code."""
    symbol = CURRENCY_SYMBOLS.get(currency)
    amount = f"{cents / 100:,.2f}"
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def mask_address(address: dict[str, object]) -> str:
    """Enough of an address for the customer to recognise it, not enough to find the house.

    "12 Rue X, 69002 Lyon" → "12*** in Lyon (690**)".
    """
    line1 = str(address.get("line1") or "")
    postal = str(address.get("postal_code") or "")
    city = str(address.get("city") or "")
    street = f"{line1[:2]}***" if line1 else "***"
    postal_masked = postal[:3] + "*" * max(len(postal) - 3, 0) if postal else ""
    where = f" in {city}" if city else ""
    return f"{street}{where}" + (f" ({postal_masked})" if postal_masked else "")


# 13–19 digits, optionally grouped by spaces or dashes: the shape of a payment card number.
_CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# Three or four digits right after "cvv", "cvc" or "security code" (or "... is").
_CARD_CODE = re.compile(r"\b(cvv2?|cvc2?|security code)\b(\W{0,3}(?:is\W{1,3})?)\d{3,4}\b", re.IGNORECASE)


def _passes_luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def redact_payment_details(text: str) -> tuple[str, bool]:
    """The text with card numbers and security codes replaced, and whether any were found.

    Free text the customer types goes into tickets that many people read; a card number
    must never be stored there or echoed back.
    """
    found = False

    def card(match: re.Match[str]) -> str:
        nonlocal found
        digits = re.sub(r"\D", "", match.group(0))
        if _passes_luhn(digits):
            found = True
            return "[card number removed]"
        return match.group(0)

    def code(match: re.Match[str]) -> str:
        nonlocal found
        found = True
        return f"{match.group(1)}{match.group(2)}[removed]"

    redacted = _CARD_CODE.sub(code, _CARD_CANDIDATE.sub(card, text))
    return redacted, found
