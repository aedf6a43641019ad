"""What the demo seed and the scale generator must give a cancelled or returned order: its money back."""

from __future__ import annotations

from datetime import datetime

from crm_backend.orders.models import Order, OrderStatus, RefundStatus, ReturnStatus


def check_money_back(order: Order, *, until: datetime) -> str | None:
    """Assert `order`'s returns and refunds are what the service would have recorded.

    Returns which case it was ("cancelled after payment", "returned") or None for neither,
    so that a test can check both cases occur. Needs items, status_history, returns and
    refunds loaded.
    """
    steps = [change.status for change in order.status_history]
    if order.status is OrderStatus.CANCELLED and OrderStatus.PAID in steps:
        assert order.returns == []
        [refund] = order.refunds
        assert refund.reason == "order cancelled"
        assert refund.return_id is None
        assert refund.created_at == order.status_history[-1].changed_at
        case = "cancelled after payment"
    elif order.status is OrderStatus.RETURNED:
        [order_return], [refund] = order.returns, order.refunds
        delivered, returned = (c.changed_at for c in order.status_history[-2:])
        assert order_return.number == order.number.replace("ORD-", "RMA-")
        assert order_return.items == []  # the whole order
        assert delivered < order_return.requested_at < returned == order_return.received_at
        assert refund.return_id == order_return.id
        assert refund.created_at == returned
        refunded = refund.status is RefundStatus.COMPLETED
        assert order_return.status is (ReturnStatus.REFUNDED if refunded else ReturnStatus.RECEIVED)
        assert order_return.resolved_at == refund.completed_at
        case = "returned"
    else:
        assert order.returns == []
        assert order.refunds == []
        return None
    assert (refund.amount_cents, refund.currency) == (order.total_cents, order.currency)
    if refund.status is RefundStatus.COMPLETED:
        assert refund.completed_at is not None
        assert refund.created_at < refund.completed_at < until
    else:
        assert refund.status in (RefundStatus.PENDING, RefundStatus.PROCESSING)
        assert refund.completed_at is None
    return case
