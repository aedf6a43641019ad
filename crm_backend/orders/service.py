"""Business rules for orders: verification, cancellation, address changes, returns."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.audit.service import diff, record
from crm_backend.auth.principal import Principal
from crm_backend.core.database import ReadOnlyDatabase
from crm_backend.core.errors import Conflict, DomainError, NotFound
from crm_backend.core.sequences import next_number
from crm_backend.core.types import utcnow
from crm_backend.orders import repository
from crm_backend.orders.models import (
    Order,
    OrderReturn,
    OrderStatus,
    OrderStatusChange,
    Refund,
    ReturnStatus,
)
from crm_backend.orders.numbers import normalize_order_number
from crm_backend.orders.schemas import Address, OrderRead, OrderVerdicts, OwnershipProof, ReturnItem

# Customers may return goods this long after delivery.
RETURN_WINDOW = timedelta(days=30)
# Until the parcel leaves the warehouse the order can still be changed.
BEFORE_SHIPMENT = frozenset({OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PACKED})
# Money was taken, so cancelling owes a refund.
PAID_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.PACKED})
OPEN_RETURNS = frozenset({ReturnStatus.REQUESTED, ReturnStatus.RECEIVED})


class OrderNotFound(NotFound):
    error = "order_not_found"


class OwnershipProofRequired(DomainError):
    status_code = 400
    error = "ownership_proof_required"


class OrderAlreadyShipped(Conflict):
    error = "order_already_shipped"


class OrderNotCancellable(Conflict):
    error = "order_not_cancellable"


class OrderNotDelivered(Conflict):
    error = "order_not_delivered"


class ReturnWindowClosed(Conflict):
    error = "return_window_closed"


class ReturnAlreadyRequested(Conflict):
    error = "return_already_requested"


class UnknownReturnItem(Conflict):
    error = "unknown_return_item"


# One message for "no such order" and "not yours": telling them apart would let
# anyone probe which order numbers exist.
_NO_MATCH = "No order matches that order number and email."


def _owned_by(order: Order, proof: OwnershipProof) -> bool:
    if proof.email is not None:
        # Bytes: compare_digest refuses str with non-ASCII characters ("zoë@…" is a valid email).
        return hmac.compare_digest(order.email.encode(), str(proof.email).strip().lower().encode())
    return proof.customer_id is not None and order.customer_id == proof.customer_id


async def get_order(session: AsyncSession, order_number: str) -> Order:
    """The order by number as customers type it, or 404."""
    number = normalize_order_number(order_number)
    order = await repository.get_by_number(session, number) if number else None
    if order is None:
        raise OrderNotFound(f"No order {order_number!r}.")
    return order


async def verify_order_owner(session: AsyncSession, *, order_number: str, proof: OwnershipProof) -> Order:
    """Return the order only if the proof (checkout email or customer id) matches it."""
    number = normalize_order_number(order_number)
    order = await repository.get_by_number(session, number) if number else None
    if order is None or not _owned_by(order, proof):
        raise OrderNotFound(_NO_MATCH)
    return order


async def _order_for(
    session: AsyncSession, *, order_number: str, proof: OwnershipProof, actor: Principal
) -> Order:
    # Agents act on any order; the bot (service token) must show the customer owns it.
    if actor.is_agent:
        return await get_order(session, order_number)
    if not proof.given:
        raise OwnershipProofRequired("Send the email on the order or the verified customer_id.")
    return await verify_order_owner(session, order_number=order_number, proof=proof)


def delivered_at(order: Order) -> datetime | None:
    """When the last parcel arrived (or the order was marked delivered)."""
    times = [s.delivered_at for s in order.shipments if s.delivered_at is not None]
    times += [c.changed_at for c in order.status_history if c.status is OrderStatus.DELIVERED]
    return max(times) if times else None


def return_window_ends(order: Order) -> datetime | None:
    """The last moment a return can be started, if the order was delivered."""
    delivered = delivered_at(order)
    return delivered + RETURN_WINDOW if delivered is not None else None


def _verdicts(status: OrderStatus, delivered: datetime | None) -> OrderVerdicts:
    """What the rules say about an order in `status`, delivered at `delivered`."""
    window_ends = None
    if status is OrderStatus.DELIVERED and delivered is not None:
        window_ends = delivered + RETURN_WINDOW
    return OrderVerdicts(can_cancel=status in BEFORE_SHIPMENT, return_window_ends=window_ends)


def to_read(order: Order) -> OrderRead:
    """The API view of an order, with the rules' verdicts filled in."""
    data: dict[str, Any] = {
        field: getattr(order, field)
        for field in ("number", "customer_id", "status", "currency", "total_cents", "placed_at", "email")
    }
    data.update(
        shipping_address=order.shipping_address,
        items=order.items,
        shipments=order.shipments,
        status_history=order.status_history,
        returns=order.returns,
        refunds=order.refunds,
        **_verdicts(order.status, delivered_at(order)).model_dump(),
    )
    return OrderRead.model_validate(data)


async def lookup_order_json(database: ReadOnlyDatabase, *, order_number: str, proof: OwnershipProof) -> bytes:
    """The order as OrderRead's JSON, only if the proof matches it; one statement, no transaction.

    On PostgreSQL the document comes rendered from the read model (documents.py, kept by
    triggers on every write) and the rules append their verdicts;
    concurrent lookups share a statement when the database is busy (ReadBatcher), each
    checked against its own proof. Elsewhere the order is loaded and rendered through
    OrderRead. The same JSON either way.
    """
    number = normalize_order_number(order_number)
    if number is None:
        raise OrderNotFound(_NO_MATCH)
    if database.lends_driver:
        email = str(proof.email).strip().lower() if proof.email is not None else None
        key = repository.OwnershipKey(number, email, proof.customer_id)
        found = await database.batcher(repository.owned_order_documents).get(key)
        if found is None:
            raise OrderNotFound(_NO_MATCH)
        # The document is an object ending in "}": the verdicts' fields go before it.
        verdicts = _verdicts(found.status, found.delivered_at).model_dump_json().encode()
        return found.document[:-1] + b", " + verdicts[1:]
    async with database.session() as session:
        order = await verify_order_owner(session, order_number=order_number, proof=proof)
        return to_read(order).model_dump_json().encode()


def _set_status(order: Order, status: OrderStatus, note: str | None = None) -> None:
    order.status = status
    order.status_history.append(OrderStatusChange(status=status, changed_at=utcnow(), note=note))


def _refuse_after_shipment(order: Order, what: str) -> None:
    if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED):
        shipped = next((s.shipped_at for s in order.shipments), None)
        when = f" on {shipped:%d %B %Y}" if shipped else ""
        raise OrderAlreadyShipped(
            f"Order {order.number} has already shipped{when}, so it can no longer be {what}. "
            "Once it is delivered it can be returned."
        )
    if order.status is OrderStatus.CANCELLED:
        raise OrderNotCancellable(f"Order {order.number} is already cancelled.")


async def cancel_order(
    session: AsyncSession, *, order_number: str, proof: OwnershipProof, reason: str | None, actor: Principal
) -> Order:
    """Cancel an order that has not shipped; a paid order gets a pending refund."""
    order = await _order_for(session, order_number=order_number, proof=proof, actor=actor)
    _refuse_after_shipment(order, "cancelled")
    previous = order.status
    _set_status(order, OrderStatus.CANCELLED, note=reason)
    if previous in PAID_STATUSES:
        order.refunds.append(
            Refund(amount_cents=order.total_cents, currency=order.currency, reason="order cancelled")
        )
    await session.flush()
    await record(
        session, actor=actor, action="order.cancel", entity_type="order", entity_id=order.number,
        changes={"status": {"from": previous.value, "to": "cancelled"}, "reason": reason},
    )  # fmt: skip
    return order


async def change_shipping_address(
    session: AsyncSession, *, order_number: str, proof: OwnershipProof, address: Address, actor: Principal
) -> Order:
    """Change where an order goes, while it is still in the warehouse."""
    order = await _order_for(session, order_number=order_number, proof=proof, actor=actor)
    _refuse_after_shipment(order, "redirected")
    before = dict(order.shipping_address)
    order.shipping_address = address.model_dump()
    await session.flush()
    await record(
        session, actor=actor, action="order.change_address", entity_type="order", entity_id=order.number,
        changes=diff(before, order.shipping_address),
    )  # fmt: skip
    return order


def _check_return_items(order: Order, items: list[ReturnItem]) -> list[dict[str, Any]]:
    ordered = {item.sku: item.quantity for item in order.items}
    for item in items:
        if item.quantity > ordered.get(item.sku, 0):
            raise UnknownReturnItem(f"Order {order.number} has no {item.quantity} × {item.sku} to return.")
    return [item.model_dump() for item in items]


async def start_return(
    session: AsyncSession,
    *,
    order_number: str,
    proof: OwnershipProof,
    reason: str | None,
    items: list[ReturnItem],
    actor: Principal,
) -> OrderReturn:
    """Open a return for a delivered order, inside the return window."""
    order = await _order_for(session, order_number=order_number, proof=proof, actor=actor)
    if order.status is not OrderStatus.DELIVERED:
        raise OrderNotDelivered(
            f"Order {order.number} is {order.status.value}; only delivered orders can be returned."
        )
    window_end = return_window_ends(order)
    if window_end is None or utcnow() > window_end:
        closed = f" on {window_end:%d %B %Y}" if window_end else ""
        raise ReturnWindowClosed(
            f"The {RETURN_WINDOW.days}-day return window for {order.number} closed{closed}."
        )
    if any(r.status in OPEN_RETURNS for r in order.returns):
        raise ReturnAlreadyRequested(f"A return for {order.number} is already open.")
    order_return = OrderReturn(
        number=f"RMA-{await next_number(session, 'return'):06d}",
        status=ReturnStatus.REQUESTED,
        reason=reason,
        items=_check_return_items(order, items),
    )
    order.returns.append(order_return)
    await session.flush()
    await record(
        session, actor=actor, action="order.return", entity_type="order", entity_id=order.number,
        changes={"return": order_return.number, "items": order_return.items},
    )  # fmt: skip
    return order_return
