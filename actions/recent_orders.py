"""Orders the order form verified moments ago, handed to the action that follows it.

Why: an order turn asks the CRM for the same order twice: `validate_order_lookup_form` looks it
up to check the number and email, and `action_order_request` runs right after in the same turn
and looked it up again to answer. Keeping the verified order for a few seconds saves that
second round trip (bench-bot). It is taken once, so a later turn always reads the CRM afresh,
and it is kept in this process only: an action server process that did not verify it (or a
restart) simply asks the CRM, as before.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from actions.crm_client import Order

# The two actions run back to back within one customer turn (tens of milliseconds apart).
FRESH_SECONDS = 5.0
# Bounded even if the follow-up action never comes (a form interrupted by the customer).
MAX_ORDERS = 1024


class RecentlyVerifiedOrders:
    """Per conversation, the order its form just verified: remembered once, taken once."""

    def __init__(
        self,
        *,
        fresh_seconds: float = FRESH_SECONDS,
        max_orders: int = MAX_ORDERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fresh_seconds = fresh_seconds
        self._max_orders = max_orders
        self._clock = clock
        self._orders: OrderedDict[tuple[str, str], tuple[float, Order]] = OrderedDict()

    def remember(self, sender_id: str, number: str, order: Order) -> None:
        """Keep `order`, verified for `sender_id` under the order number the form stored."""
        key = (sender_id, number)
        self._orders.pop(key, None)
        self._orders[key] = (self._clock(), order)
        while len(self._orders) > self._max_orders:
            self._orders.popitem(last=False)

    def take(self, sender_id: str, number: str) -> Order | None:
        """The order verified for `sender_id` under `number` if it is still fresh; forgotten either way."""
        entry = self._orders.pop((sender_id, number), None)
        if entry is None:
            return None
        verified_at, order = entry
        return order if self._clock() - verified_at <= self._fresh_seconds else None


recently_verified = RecentlyVerifiedOrders()
