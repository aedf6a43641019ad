"""All SQL about orders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from types import NoneType
from typing import Any, NamedTuple, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from crm_backend.orders.models import Order, OrderStatus
from crm_backend.orders.schemas import (
    Address,
    OrderItemRead,
    OrderRead,
    OrderStatusChangeRead,
    RefundRead,
    ReturnRead,
    ShipmentRead,
)

# An order is almost always shown with its lines, parcels, history, returns and refunds.
SHOWN_WITH_ORDER = (Order.items, Order.shipments, Order.status_history, Order.returns, Order.refunds)
# For lists of orders: one extra query per collection, however many orders.
FULL_ORDER = tuple(selectinload(collection) for collection in SHOWN_WITH_ORDER)
# For one order, one round trip: its collections are a few rows each, so the joined
# product stays small, and the verify-and-get lookup (the bot's hottest call) goes from
# six queries to one. Built once, so its cache key is not recomputed per request.
_BY_NUMBER = (
    select(Order)
    .where(Order.number == bindparam("number"))
    .options(*(joinedload(collection) for collection in SHOWN_WITH_ORDER))
)


async def get_by_number(session: AsyncSession, number: str) -> Order | None:
    """The order with this canonical number, with everything shown alongside it loaded."""
    result = await session.execute(_BY_NUMBER, {"number": number})
    return result.unique().scalar_one_or_none()


def filtered(
    *,
    status: OrderStatus | None,
    customer_id: int | None,
    email: str | None,
    placed_from: datetime | None,
    placed_to: datetime | None,
) -> Select[Any]:
    """Newest orders first, narrowed by whichever filters are given."""
    statement = select(Order).order_by(Order.placed_at.desc(), Order.id.desc())
    if status is not None:
        statement = statement.where(Order.status == status)
    if customer_id is not None:
        statement = statement.where(Order.customer_id == customer_id)
    if email:
        statement = statement.where(Order.email == email.strip().lower())
    if placed_from is not None:
        statement = statement.where(Order.placed_at >= placed_from)
    if placed_to is not None:
        statement = statement.where(Order.placed_at < placed_to)
    return statement


# --- The order document, built by PostgreSQL -------------------------------------------
#
# The bot's verify-and-get lookup is the CRM's hottest call. On PostgreSQL one prepared
# statement finds the order and renders it as OrderRead's JSON (minus the two fields the
# rules compute), so Python neither hydrates ~55 joined rows nor validates them again.
# The objects are generated from the pydantic schemas, field by field, in their order and
# formats; tests compare the result with OrderRead's own rendering for orders in every state.


def _iso_datetime(column: str) -> str:
    # Pydantic's rendering of an aware UTC datetime: microseconds only when there are any,
    # "Z" for UTC ("2026-11-23T11:16:00Z", "2026-11-23T11:16:00.120000Z"). NULL stays NULL.
    text = f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    return f"(replace({text}, '.000000', '') || 'Z')"


def _rendered(column: str, annotation: Any) -> str:
    kinds = set(get_args(annotation) or (annotation,)) - {NoneType}
    if datetime in kinds:
        return _iso_datetime(column)
    if date in kinds:
        return f"to_char({column}, 'YYYY-MM-DD')"
    return column


def _json_object(fields: Mapping[str, FieldInfo], row: str, *, given: Mapping[str, str] = {}) -> str:
    """json_build_object(...) of a schema's fields, read from `row`'s columns of the same names."""
    pairs = [
        f"'{name}', {given.get(name) or _rendered(f'{row}.{name}', field.annotation)}"
        for name, field in fields.items()
    ]
    return f"json_build_object({', '.join(pairs)})"


def _json_list(schema: type[BaseModel], table: str, extra: str = "") -> str:
    """A lateral subquery: the order's rows of `table` as a JSON array, by id."""
    document = _json_object(schema.model_fields, "x")
    # Only constant names (tables, schema fields) are interpolated into this SQL.
    return (
        f"SELECT coalesce(json_agg({document} ORDER BY x.id), '[]') AS list{extra} "  # noqa: S608
        f"FROM {table} x WHERE x.order_id = o.id"
    )


# The fields of OrderRead the rules fill in (service.py), after everything stored.
RULED_FIELDS = ("can_cancel", "return_window_ends")
_COLLECTIONS = {
    "items": ("i", _json_list(OrderItemRead, "order_items")),
    # When it was delivered (the start of the return window): the last parcel's arrival
    # or the "delivered" step of its history, whichever is later.
    "shipments": ("s", _json_list(ShipmentRead, "shipments", ", max(x.delivered_at) AS delivered")),
    "status_history": (
        "h",
        _json_list(
            OrderStatusChangeRead,
            "order_status_changes",
            f", max(x.changed_at) FILTER (WHERE x.status = '{OrderStatus.DELIVERED.value}') AS delivered",
        ),
    ),
    "returns": ("r", _json_list(ReturnRead, "order_returns")),
    "refunds": ("f", _json_list(RefundRead, "refunds")),
}
_STORED = {name: field for name, field in OrderRead.model_fields.items() if name not in RULED_FIELDS}
_ADDRESS = {name: f"o.shipping_address -> '{name}'" for name in Address.model_fields}
_DOCUMENT = _json_object(
    _STORED,
    "o",
    given={
        "shipping_address": _json_object(Address.model_fields, "o", given=_ADDRESS),
        **{name: f"{alias}.list" for name, (alias, _query) in _COLLECTIONS.items()},
    },
)
_LATERALS = " ".join(f"CROSS JOIN LATERAL ({query}) {alias}" for alias, query in _COLLECTIONS.values())


def _owned_order_document(number: str, email: str, customer_id: str) -> str:
    # The number and the proof in one WHERE: a wrong email finds no row, exactly like an
    # unknown number, and the document is only built for the order's owner.
    # Constant names only are interpolated; the values are $n parameters.
    return (
        "SELECT o.status, greatest(s.delivered, h.delivered) AS delivered_at, "  # noqa: S608
        f"convert_to({_DOCUMENT}::text, 'UTF8') AS document "
        f"FROM orders o {_LATERALS} "
        f"WHERE o.number = {number} AND (o.email = {email} OR o.customer_id = {customer_id})"
    )


OWNED_ORDER_DOCUMENT = _owned_order_document("$1", "$2", "$3")
# The same for several (number, email, customer id) keys at once: each key is checked and
# rendered exactly as above, and its row says which key (k, from 1) it answers.
OWNED_ORDER_DOCUMENTS = (
    "SELECT p.k, d.status, d.delivered_at, d.document "  # noqa: S608
    "FROM unnest($1::varchar[], $2::varchar[], $3::int[]) "
    "WITH ORDINALITY AS p(number, email, customer_id, k) "
    f"CROSS JOIN LATERAL ({_owned_order_document('p.number', 'p.email', 'p.customer_id')}) d"
)


class OrderDocument(NamedTuple):
    """An order rendered by the database: what the rules need, and the JSON bytes."""

    status: OrderStatus
    delivered_at: datetime | None
    document: bytes


class OwnershipKey(NamedTuple):
    """An order number with its proof of ownership: the checkout email or the customer id."""

    number: str
    email: str | None
    customer_id: int | None


async def owned_order_document(
    connection: Any, *, number: str, email: str | None, customer_id: int | None
) -> OrderDocument | None:
    """The order `number` as JSON, if its checkout email or customer id matches (asyncpg)."""
    row = await connection.fetchrow(OWNED_ORDER_DOCUMENT, number, email, customer_id)
    if row is None:
        return None
    return OrderDocument(OrderStatus(row[0]), row[1], row[2])


async def owned_order_documents(connection: Any, keys: Sequence[OwnershipKey]) -> list[OrderDocument | None]:
    """owned_order_document for each key, in order, in one statement (asyncpg)."""
    if len(keys) == 1:
        number, email, customer_id = keys[0]
        return [await owned_order_document(connection, number=number, email=email, customer_id=customer_id)]
    numbers, emails, customer_ids = zip(*keys, strict=True)
    found: list[OrderDocument | None] = [None] * len(keys)
    for k, status, delivered_at, document in await connection.fetch(
        OWNED_ORDER_DOCUMENTS, numbers, emails, customer_ids
    ):
        found[k - 1] = OrderDocument(OrderStatus(status), delivered_at, document)
    return found
