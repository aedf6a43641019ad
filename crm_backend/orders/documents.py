"""The order document: OrderRead's JSON, rendered by PostgreSQL and kept in a read model.

The bot's verify-and-get lookup is the CRM's hottest call. On PostgreSQL each order's
document (OrderRead's JSON minus the two fields the rules compute, see service.py) is kept
rendered in the table `order_documents`, beside the number, email and customer id that
prove ownership, so a lookup is one index read of one row: no joins, no aggregates, no JSON
building per request.

The table is maintained by the database itself, in the writing transaction: statement-level
triggers on `orders` and on each table shown with an order re-render the orders a statement
touched (`order_documents_after_change_by_*` -> `order_documents_refresh`). Whatever writes (the
API, the demo seed, an operator in psql), the document is never stale to anyone who can see
the write. A writer first locks the orders it re-renders (FOR NO KEY UPDATE, which neither
readers nor foreign-key checks wait for), so two transactions changing one order take turns
and the second renders after the first has committed (a fresh snapshot per statement in
READ COMMITTED): no lost update. Bulk loads (`crm_backend.demo.generate`) defer the triggers
with `SET LOCAL crm.defer_order_documents = on` and render their orders once at the end
(`order_documents_render`, no lock: nobody else sees rows not yet committed).

The SQL is generated from the pydantic schemas, field by field, in their order and formats.
Migrations keep a frozen copy (20261202_a41c7d2e9b05_order_documents.py); a test fails when
the schemas and that copy disagree, which means: write a migration that replaces the
functions and re-renders every order. SQLite has no read model: there the ORM loads the
order and OrderRead renders it (same JSON, tests compare).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from types import NoneType
from typing import Any, NamedTuple, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_backend.orders.models import OrderStatus
from crm_backend.orders.schemas import (
    Address,
    OrderItemRead,
    OrderRead,
    OrderStatusChangeRead,
    RefundRead,
    ReturnRead,
    ShipmentRead,
)

TABLE = "order_documents"
# Set (SET LOCAL) to "on" by a bulk load that renders its orders itself at the end.
DEFER_SETTING = "crm.defer_order_documents"
# The tables an order's document is rendered from, with the column naming the order.
SOURCES = {
    "orders": "id",
    "order_items": "order_id",
    "shipments": "order_id",
    "order_status_changes": "order_id",
    "order_returns": "order_id",
    "refunds": "order_id",
}


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

# The read model's columns, in order, each with what it is rendered from.
_COLUMNS = {
    "order_id": "o.id",
    "number": "o.number",
    "email": "o.email",
    "customer_id": "o.customer_id",
    "status": "o.status",
    "delivered_at": "greatest(s.delivered, h.delivered)",
    "document": f"convert_to({_DOCUMENT}::text, 'UTF8')",
}


def render_statement(order_ids: str) -> str:
    """Upsert the documents of the orders whose ids are in the int[] expression `order_ids`."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "order_id")
    return (
        f"INSERT INTO {TABLE} ({', '.join(_COLUMNS)}) "  # noqa: S608  # constant names only
        f"SELECT {', '.join(_COLUMNS.values())} FROM orders o {_LATERALS} "
        f"WHERE o.id = ANY({order_ids}) "
        f"ON CONFLICT (order_id) DO UPDATE SET {updates}"
    )


# Left to its default, PostgreSQL re-plans `id = ANY($1)` with five lateral aggregates on
# every call (its generic plan's estimate for an array parameter always looks dearer),
# which took 0.8 ms of the 1.0 ms a render cost; these statements' best plan never depends
# on the values (index look-ups by id).
_PLANNED_ONCE = "SET plan_cache_mode = force_generic_plan"


def _trigger_function(column: str) -> str:
    return f"order_documents_after_change_by_{column}"


def schema_statements() -> list[str]:
    """The DDL of the read model on PostgreSQL: table, functions and triggers, in order.

    A migration freezes this list; `tests/crm_backend/orders/test_order_documents.py`
    checks that the newest such migration still equals it.
    """
    statements = [
        f"CREATE TABLE {TABLE} ("
        " order_id integer PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,"
        " number varchar(20) NOT NULL, email varchar(320) NOT NULL, customer_id integer NOT NULL,"
        " status varchar(20) NOT NULL, delivered_at timestamptz, document bytea NOT NULL)",
        # The lookup's only access path: by number, then the proof is checked on the row.
        f"CREATE UNIQUE INDEX uq_{TABLE}_number ON {TABLE} (number)",
        # Render without locking: for rows nobody else can see yet (bulk loads, backfills).
        "CREATE FUNCTION order_documents_render(order_ids integer[]) RETURNS void"
        f" LANGUAGE plpgsql {_PLANNED_ONCE} AS $$ BEGIN {render_statement('order_ids')}; END $$",
        # Lock, then render in a new statement (a new snapshot): see the module docstring.
        "CREATE FUNCTION order_documents_refresh(order_ids integer[]) RETURNS void"
        f" LANGUAGE plpgsql {_PLANNED_ONCE} AS $$ BEGIN"
        " IF cardinality(order_ids) = 0 THEN RETURN; END IF;"
        " PERFORM 1 FROM orders WHERE id = ANY(order_ids) ORDER BY id FOR NO KEY UPDATE;"
        f" {render_statement('order_ids')};"
        " END $$",
    ]
    for column in sorted(set(SOURCES.values())):
        statements.append(
            # Static SQL (its plans are kept), one function per name of the order's column.
            f"CREATE FUNCTION {_trigger_function(column)}() RETURNS trigger"  # noqa: S608  # constant names only
            " LANGUAGE plpgsql AS $$ DECLARE touched integer[]; BEGIN"
            f" IF current_setting('{DEFER_SETTING}', true) = 'on' THEN RETURN NULL; END IF;"
            f" IF TG_OP = 'INSERT' THEN touched := ARRAY(SELECT DISTINCT {column} FROM new_rows);"
            f" ELSIF TG_OP = 'UPDATE' THEN"
            f" touched := ARRAY(SELECT {column} FROM new_rows UNION SELECT {column} FROM old_rows);"
            f" ELSE touched := ARRAY(SELECT DISTINCT {column} FROM old_rows); END IF;"
            " PERFORM order_documents_refresh(touched);"
            " RETURN NULL; END $$"
        )
    # Transition tables allow one event per trigger: three triggers per table.
    transitions = {
        "insert": "NEW TABLE AS new_rows",
        "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "delete": "OLD TABLE AS old_rows",
    }
    for table, column in SOURCES.items():
        for event, tables in transitions.items():
            statements.append(
                f"CREATE TRIGGER order_documents_after_{event} AFTER {event.upper()} ON {table}"
                f" REFERENCING {tables} FOR EACH STATEMENT"
                f" EXECUTE FUNCTION {_trigger_function(column)}()"
            )
    return statements


def drop_statements() -> list[str]:
    """The DDL that removes the read model (the migration's downgrade)."""
    triggers = [
        f"DROP TRIGGER IF EXISTS order_documents_after_{event} ON {table}"
        for table in SOURCES
        for event in ("insert", "update", "delete")
    ]
    functions = [f"DROP FUNCTION IF EXISTS {_trigger_function(c)}()" for c in sorted(set(SOURCES.values()))]
    functions += [
        "DROP FUNCTION IF EXISTS order_documents_refresh(integer[])",
        "DROP FUNCTION IF EXISTS order_documents_render(integer[])",
    ]
    return [*triggers, *functions, f"DROP TABLE IF EXISTS {TABLE}"]


# The lookup: the document of order `number`, only when its checkout email or customer id
# matches. The number and the proof in one WHERE: a wrong email finds no row, exactly like
# an unknown number.
OWNED_ORDER_DOCUMENT = (
    f"SELECT status, delivered_at, document FROM {TABLE} "  # noqa: S608  # constant names only
    "WHERE number = $1 AND (email = $2 OR customer_id = $3)"
)
# The same for several (number, email, customer id) keys at once: each key is checked
# exactly as above, and its row says which key (k, from 1) it answers.
OWNED_ORDER_DOCUMENTS = (
    "SELECT p.k, d.status, d.delivered_at, d.document "  # noqa: S608  # constant names only
    "FROM unnest($1::varchar[], $2::varchar[], $3::int[]) "
    "WITH ORDINALITY AS p(number, email, customer_id, k) "
    f"JOIN {TABLE} d ON d.number = p.number AND (d.email = p.email OR d.customer_id = p.customer_id)"
)


# --- Checking and repairing the read model (`python -m crm_backend order-documents`) ---

_FRESH = ", ".join(f"{value} AS {column}" for column, value in _COLUMNS.items())
_STORED_ROW = ", ".join(f"d.{column}" for column in _COLUMNS)
_FRESH_ROW = ", ".join(f"r.{column}" for column in _COLUMNS)
# Orders without a document, and documents that differ from a fresh render. (A document
# of no order cannot exist: its foreign key deletes it with the order.)
DRIFT_STATEMENT = (
    "SELECT"  # noqa: S608  # constant names only
    f" (SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM {TABLE} d WHERE d.order_id = o.id)),"
    f" (SELECT count(*) FROM {TABLE} d"
    f" JOIN LATERAL (SELECT {_FRESH} FROM orders o {_LATERALS} WHERE o.id = d.order_id) r ON true"
    f" WHERE ({_STORED_ROW}) IS DISTINCT FROM ({_FRESH_ROW}))"
)
# Orders per statement when every document is rendered again.
REBUILD_CHUNK = 50_000


class Drift(NamedTuple):
    """How far the read model is from the orders: all zero when it is current."""

    missing: int
    stale: int

    @property
    def current(self) -> bool:
        return self == (0, 0)


async def drift(connection: AsyncConnection) -> Drift:
    """Compare every document with a fresh render of its order (PostgreSQL; reads everything)."""
    row = (await connection.execute(text(DRIFT_STATEMENT))).one()
    return Drift(*row)


async def rebuild(engine: AsyncEngine) -> int:
    """Render every order's document again.

    One transaction per chunk of orders, so writers wait for one chunk at most (each is
    locked while it is rendered, as any write would).
    """
    async with engine.connect() as connection:
        low, high = (await connection.execute(text("SELECT min(id), max(id) FROM orders"))).one()
    for start in range(low or 0, (high or -1) + 1, REBUILD_CHUNK):
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "SELECT order_documents_refresh("
                    "array(SELECT id FROM orders WHERE id >= :low AND id < :high))"
                ),
                {"low": start, "high": start + REBUILD_CHUNK},
            )
    async with engine.connect() as connection:
        count: int = (await connection.execute(text(f"SELECT count(*) FROM {TABLE}"))).scalar_one()  # noqa: S608
    return count
