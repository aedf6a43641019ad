"""Scale data for benchmarks: `python -m crm_backend.demo.generate --database-url URL ...`.

Fills an already-migrated database with many customers and orders, deterministic for a
seed and an anchor date. PostgreSQL is loaded with COPY in batches: 100k customers and 1M
orders (8.9M rows in all) take about two minutes on two cores. SQLite gets plain
executemany, meant for the small sizes the tests use.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from psycopg import sql
from sqlalchemy import JSON, Connection, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from crm_backend.core.enums import Channel
from crm_backend.demo.seed import (
    CARRIERS,
    CITIES,
    FIRST_NAMES,
    LAST_NAMES,
    LIFECYCLE,
    PRODUCTS,
    STREETS,
    MoneyBack,
    money_back,
    return_number,
)
from crm_backend.models import Base
from crm_backend.orders import documents
from crm_backend.orders.models import OrderStatus
from crm_backend.orders.numbers import format_order_number

DEFAULT_SEED = 424242
# Seven digits: clear of the demo seed (ORD-100001..) and the test factories (ORD-900001..).
FIRST_ORDER_SEQUENCE = 1_000_000
EMAIL_DOMAIN = "scale.example.org"
BATCH_ORDERS = 20_000
PROGRESS_EVERY = 100_000
# Orders per statement when the read model's documents are rendered after a bulk load.
DOCUMENT_CHUNK = 50_000
# Order ages follow an exponential curve (most orders recent), capped at two years.
MEAN_AGE_DAYS = 90.0
MAX_AGE_DAYS = 730
DAY = 86_400.0

Row = tuple[Any, ...]

# The columns we fill, per table, in COPY order; every other column is nullable.
COLUMNS: dict[str, tuple[str, ...]] = {
    table: tuple(columns.split())
    for table, columns in {
        "customers": "id full_name email phone phone_digits preferred_channel language"
        " marketing_consent marketing_consent_at created_at updated_at",
        "customer_emails": "id customer_id email created_at",
        "orders": "id number customer_id email status currency total_cents shipping_address"
        " placed_at updated_at",
        "order_items": "id order_id sku name quantity unit_price_cents",
        "order_status_changes": "id order_id status changed_at note",
        "shipments": "id order_id carrier tracking_number tracking_url estimated_delivery"
        " shipped_at delivered_at",
        "order_returns": "id number order_id status reason items requested_at received_at resolved_at",
        "refunds": "id order_id return_id amount_cents currency status reason created_at completed_at",
    }.items()
}
CHANNELS = (Channel.WEB.value, Channel.MESSENGER.value, Channel.TELEGRAM.value, Channel.WHATSAPP.value, None)
LANGUAGES = ("en", "fr", "de", "it", "es")


class GenerateError(Exception):
    """The database cannot take the generated data, worded for the operator."""


class _Customer(NamedTuple):
    id: int
    email: str
    address: dict[str, Any]


@dataclass
class Summary:
    """How many rows of each table were written, and how long it took."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    seconds: float = 0.0


class _Sink(Protocol):
    def write(self, table: str, rows: list[Row]) -> None: ...


class _CopySink:
    """PostgreSQL: COPY ... FROM STDIN on the transaction's own psycopg connection."""

    def __init__(self, connection: Connection) -> None:
        self._raw: Any = connection.connection.driver_connection

    def write(self, table: str, rows: list[Row]) -> None:
        columns = COLUMNS[table]
        json_at = [
            i for i, c in enumerate(columns) if isinstance(Base.metadata.tables[table].c[c].type, JSON)
        ]
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with self._raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                if json_at:
                    values = list(row)
                    for i in json_at:
                        values[i] = json.dumps(values[i])
                    row = tuple(values)
                copy.write_row(row)


class _InsertSink:
    """Any other database: executemany through SQLAlchemy, so column types convert as usual."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def write(self, table: str, rows: list[Row]) -> None:
        columns = COLUMNS[table]
        self._connection.execute(
            insert(Base.metadata.tables[table]), [dict(zip(columns, row, strict=True)) for row in rows]
        )


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().replace("'", "")


def _moment(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _steps_for_age(rng: random.Random, age_days: int) -> list[OrderStatus]:
    """The statuses a plausible order placed `age_days` ago has been through."""
    if rng.random() < 0.06:
        return [*LIFECYCLE[: rng.randint(1, 2)], OrderStatus.CANCELLED]
    if age_days <= 1:
        reached = rng.randint(1, 2)
    elif age_days <= 3:
        reached = rng.randint(2, 4)
    elif age_days <= 6:
        reached = rng.randint(4, 5)
    elif rng.random() < 0.05:
        return [*LIFECYCLE, OrderStatus.RETURNED]
    else:
        reached = 5
    return list(LIFECYCLE[:reached])


class _Builder:
    """Turns one random stream into rows; ids continue after what the tables already hold."""

    def __init__(self, *, seed: int, anchor: date, first_ids: dict[str, int], first_sequence: int) -> None:
        self.rng = random.Random(seed)
        # Everything happens before the anchor's midnight, so nothing lies in the future.
        self.until = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC).timestamp()
        self.next_id = dict(first_ids)
        self.sequence = first_sequence
        self.customers: list[_Customer] = []

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def customer_rows(self, count: int) -> dict[str, list[Row]]:
        rng = self.rng
        rows: dict[str, list[Row]] = {"customers": [], "customer_emails": []}
        for _ in range(count):
            cid = self._id("customers")
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            # The id makes the address unique, also next to an earlier run's customers.
            email = f"{_ascii(first)}.{_ascii(last)}.{cid}@{EMAIL_DOMAIN}"
            created = _moment(self.until - MAX_AGE_DAYS * DAY - rng.uniform(0, 365 * DAY))
            digits = f"49151{rng.randint(1_000_000, 9_999_999)}" if rng.random() < 0.7 else None
            phone = f"+{digits[:2]} {digits[2:5]} {digits[5:]}" if digits else None
            consent = rng.random() < 0.3
            consent_at = created if consent else None
            city, country, postal = rng.choice(CITIES)
            line1 = f"{rng.randint(1, 120)} {rng.choice(STREETS)}"
            address = {"name": name, "line1": line1, "line2": None}
            address |= {"city": city, "postal_code": postal, "country": country}
            self.customers.append(_Customer(cid, email, address))
            channel, lang = rng.choice(CHANNELS), rng.choice(LANGUAGES)
            rows["customers"].append(
                (cid, name, email, phone, digits, channel, lang, consent, consent_at, created, created)
            )
            rows["customer_emails"].append((self._id("customer_emails"), cid, email, created))
        return rows

    def order_rows(self, count: int) -> dict[str, list[Row]]:
        rng = self.rng
        rows: dict[str, list[Row]] = {
            t: []
            for t in (
                "orders",
                "order_items",
                "order_status_changes",
                "shipments",
                "order_returns",
                "refunds",
            )
        }
        for _ in range(count):
            customer = self.customers[rng.randrange(len(self.customers))]
            age_days = min(int(rng.expovariate(1 / MEAN_AGE_DAYS)), MAX_AGE_DAYS)
            placed = self.until - age_days * DAY - rng.uniform(2 * 3600, 20 * 3600)
            steps = _steps_for_age(rng, age_days)
            order_id = self._id("orders")
            total = 0
            for sku, name, price in rng.sample(PRODUCTS, k=rng.randint(1, 3)):
                quantity = rng.randint(1, 2)
                total += quantity * price
                rows["order_items"].append((self._id("order_items"), order_id, sku, name, quantity, price))
            # Each step takes up to two days, and the last one still happens before `until`.
            step = min((self.until - placed) / len(steps), 2 * DAY)
            moment, changed = placed, {}
            for s in steps:
                changed[s] = _moment(moment)
                rows["order_status_changes"].append(
                    (self._id("order_status_changes"), order_id, s.value, changed[s], None)
                )
                moment += step * rng.uniform(0.5, 1.0)
            if OrderStatus.SHIPPED in changed:
                carrier, url = rng.choice(CARRIERS)
                tracking = f"{carrier[:2].upper()}{rng.randint(10**9, 10**10 - 1)}"
                shipped, delivered = changed[OrderStatus.SHIPPED], changed.get(OrderStatus.DELIVERED)
                eta, link = (shipped + timedelta(days=3)).date(), url.format(tracking)
                rows["shipments"].append(
                    (self._id("shipments"), order_id, carrier, tracking, link, eta, shipped, delivered)
                )
            number, status, updated = format_order_number(self.sequence), steps[-1].value, changed[steps[-1]]
            self.sequence += 1
            if (owed := money_back(number, steps, changed, _moment(self.until))) is not None:
                self._money_back_rows(rows, order_id, number, total, owed)
            cid, email, address = customer
            rows["orders"].append(
                (order_id, number, cid, email, status, "EUR", total, address, _moment(placed), updated)
            )
        return rows

    def _money_back_rows(
        self, rows: dict[str, list[Row]], order_id: int, number: str, total: int, owed: MoneyBack
    ) -> None:
        return_id = None
        if owed.return_received_at is not None:
            return_id = self._id("order_returns")
            rows["order_returns"].append(
                (
                    return_id,
                    return_number(number),
                    order_id,
                    owed.return_status.value,
                    owed.reason,
                    [],
                    owed.return_requested_at,
                    owed.return_received_at,
                    owed.refund_completed_at,
                )
            )
        rows["refunds"].append(
            (
                self._id("refunds"),
                order_id,
                return_id,
                total,
                "EUR",
                owed.refund_status.value,
                owed.reason,
                owed.refund_created_at,
                owed.refund_completed_at,
            )
        )


def sync_database_url(database_url: str) -> str:
    """The URL with a synchronous driver: psycopg for PostgreSQL, sqlite3 for SQLite."""
    url = make_url(database_url)
    driver = "postgresql+psycopg" if url.get_backend_name() == "postgresql" else url.get_backend_name()
    return url.set(drivername=driver).render_as_string(hide_password=False)


def _first_ids(connection: Connection) -> dict[str, int]:
    tables = Base.metadata.tables
    return {
        t: int(connection.scalar(select(func.coalesce(func.max(tables[t].c.id), 0))) or 0) + 1
        for t in COLUMNS
    }


def _render_documents(connection: Connection, first_order_id: int, progress: Callable[[str], None]) -> None:
    """Render the read model's documents of the orders from `first_order_id` on, in chunks."""
    started = time.monotonic()
    last = int(
        connection.scalar(select(func.coalesce(func.max(Base.metadata.tables["orders"].c.id), 0))) or 0
    )
    for low in range(first_order_id, last + 1, DOCUMENT_CHUNK):
        connection.execute(
            text(
                "SELECT order_documents_render(array(SELECT id FROM orders WHERE id >= :low AND id < :high))"
            ),
            {"low": low, "high": low + DOCUMENT_CHUNK},
        )
    progress(f"generate: order documents rendered ({time.monotonic() - started:.1f}s)")


def generate(
    database_url: str,
    *,
    customers: int,
    orders: int,
    seed: int = DEFAULT_SEED,
    anchor: date | None = None,
    first_sequence: int = FIRST_ORDER_SEQUENCE,
    progress: Callable[[str], None] = print,
) -> Summary:
    """Add `customers` customers and `orders` orders to a migrated database, in one transaction."""
    if customers < 1 or orders < 0:
        raise GenerateError("need at least one customer and a non-negative number of orders")
    started, summary = time.monotonic(), Summary()
    engine = create_engine(sync_database_url(database_url))
    postgres = engine.dialect.name == "postgresql"
    orders_table = Base.metadata.tables["orders"]
    try:
        with engine.begin() as connection:
            first_number = format_order_number(first_sequence)
            if connection.scalar(select(orders_table.c.id).where(orders_table.c.number == first_number)):
                raise GenerateError(f"the database already holds {first_number}; generate into a fresh one")
            first_ids = _first_ids(connection)
            builder = _Builder(
                seed=seed,
                anchor=anchor or datetime.now(UTC).date(),
                first_ids=first_ids,
                first_sequence=first_sequence,
            )
            if postgres:
                # Each COPY would re-render its orders' documents (six times per order, one
                # dead row each): the documents are rendered once, at the end, instead.
                connection.execute(text(f"SET LOCAL {documents.DEFER_SETTING} = 'on'"))
            sink: _Sink = _CopySink(connection) if postgres else _InsertSink(connection)

            def write(rows: dict[str, list[Row]]) -> None:
                for table, table_rows in rows.items():
                    # An empty executemany would insert one row of defaults.
                    if table_rows:
                        sink.write(table, table_rows)
                    summary.rows[table] += len(table_rows)

            write(builder.customer_rows(customers))
            progress(f"generate: {customers:,} customers ({time.monotonic() - started:.1f}s)")
            done = 0
            while done < orders:
                batch = min(BATCH_ORDERS, orders - done)
                write(builder.order_rows(batch))
                done += batch
                if done % PROGRESS_EVERY == 0 or done == orders:
                    progress(f"generate: {done:,}/{orders:,} orders ({time.monotonic() - started:.1f}s)")
            if postgres:
                _render_documents(connection, first_ids["orders"], progress)
                # COPY with explicit ids leaves the id sequences behind; the app inserts next.
                for table in COLUMNS:
                    connection.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")  # noqa: S608
                    )
        if postgres:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    summary.seconds = time.monotonic() - started
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m crm_backend.demo.generate`."""
    parser = argparse.ArgumentParser(prog="python -m crm_backend.demo.generate", description=__doc__)
    parser.add_argument(
        "--database-url", required=True, help="a migrated database (sqlite:// or postgresql://)"
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--anchor", type=date.fromisoformat, default=None, help="YYYY-MM-DD; default today")
    parser.add_argument(
        "--first-number", type=int, default=FIRST_ORDER_SEQUENCE, help="sequence of the first order number"
    )
    args = parser.parse_args(argv)
    try:
        summary = generate(
            args.database_url,
            customers=args.customers,
            orders=args.orders,
            seed=args.seed,
            anchor=args.anchor,
            first_sequence=args.first_number,
        )
    except GenerateError as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 1
    rows = ", ".join(f"{count:,} {table}" for table, count in summary.rows.items())
    print(f"generate: wrote {rows} in {summary.seconds:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
