"""Order numbers: the one format the shop prints, and the many ways customers type it."""

from __future__ import annotations

import re

ORDER_NUMBER_PREFIX = "ORD-"
# Customers write "ORD-104733", "ord 104733", "#104733" or just "104733".
_ORDER_NUMBER_INPUT = re.compile(r"^\s*(?:#|ord(?:er)?[\s#:-]*)?\s*(\d{6,7})\s*$", re.IGNORECASE)


def normalize_order_number(raw: str) -> str | None:
    """Return the canonical "ORD-123456" form, or None when `raw` is not an order number."""
    match = _ORDER_NUMBER_INPUT.match(raw)
    if match is None:
        return None
    return f"{ORDER_NUMBER_PREFIX}{match.group(1)}"


def format_order_number(sequence: int) -> str:
    """The canonical number for the n-th order (at least six digits, zero-padded)."""
    return f"{ORDER_NUMBER_PREFIX}{sequence:06d}"
