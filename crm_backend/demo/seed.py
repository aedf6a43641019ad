"""Deterministic demo data: the same customers and orders for the same anchor date.

Dates are laid out relative to the anchor (by default today), so a freshly seeded
demo always has orders in transit, recently delivered ones inside the return window,
and old ones outside it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.auth.principal import SYSTEM_PRINCIPAL
from crm_backend.customers.models import Customer, CustomerEmail
from crm_backend.customers.repository import phone_digits
from crm_backend.demo.support_seed import seed_support_history
from crm_backend.faq.models import FaqArticle
from crm_backend.faq.schemas import ArticleCreate
from crm_backend.faq.service import upsert_articles
from crm_backend.orders.models import (
    Order,
    OrderItem,
    OrderReturn,
    OrderStatus,
    OrderStatusChange,
    Refund,
    RefundStatus,
    ReturnStatus,
    Shipment,
)
from crm_backend.orders.numbers import format_order_number
from faq.content import ARTICLES_DIR, ContentError, load_articles

SEED = 20261123

FIRST_NAMES = [
    "Alice",
    "Bruno",
    "Chloé",
    "Daniel",
    "Emma",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Karin",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pablo",
    "Quentin",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wim",
    "Xenia",
    "Yusuf",
    "Zoé",
    "Aiko",
    "Björn",
    "Chidi",
    "Dilnoza",
]
LAST_NAMES = [
    "Martin",
    "Rossi",
    "Dubois",
    "Schmidt",
    "Novak",
    "Kowalski",
    "García",
    "Jensen",
    "Okafor",
    "Tanaka",
    "Silva",
    "Müller",
    "Petrov",
    "Haddad",
    "Lindqvist",
    "O'Brien",
    "Nguyen",
    "Fischer",
    "Moreau",
    "Costa",
]
CITIES = (
    ("Lyon", "FR", "69002"),
    ("Berlin", "DE", "10115"),
    ("Milano", "IT", "20121"),
    ("Madrid", "ES", "28004"),
    ("Amsterdam", "NL", "1012"),
    ("Wien", "AT", "1010"),
)
STREETS = ("Rue de la République", "Hauptstraße", "Via Roma", "Calle Mayor", "Damrak", "Ringstraße")
PRODUCTS = (
    ("TSH-CLASSIC", "Classic organic T-shirt", 2490),
    ("HOOD-ZIP", "Zip hoodie", 5990),
    ("JNS-SLIM", "Slim-fit jeans", 7990),
    ("SNK-RUN", "Running sneakers", 9490),
    ("CAP-WOOL", "Wool cap", 1990),
    ("SCK-3PK", "Socks, pack of 3", 1290),
    ("JKT-RAIN", "Rain jacket", 11990),
    ("BAG-TOTE", "Canvas tote bag", 1890),
)
CARRIERS = (
    ("DHL", "https://www.dhl.com/track?id={}"),
    ("UPS", "https://www.ups.com/track?tracknum={}"),
    ("Colissimo", "https://www.laposte.fr/outils/suivre-vos-envois?code={}"),
)

# The order each status passes through; cancelled and returned branch off it.
LIFECYCLE = (
    OrderStatus.PLACED,
    OrderStatus.PAID,
    OrderStatus.PACKED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
)


RETURN_REASONS = ("wrong size", "not as described", "arrived damaged", "changed my mind", None)


@dataclass(frozen=True, slots=True)
class MoneyBack:
    """The refund an order cancelled after payment, or returned, carries; and the return behind it."""

    refund_status: RefundStatus
    refund_created_at: datetime
    refund_completed_at: datetime | None
    reason: str | None
    # Only for a returned order: when the customer asked, and when the parcel came back.
    return_requested_at: datetime | None = None
    return_received_at: datetime | None = None

    @property
    def return_status(self) -> ReturnStatus:
        """The return's status: refunded once its refund is paid out, received until then."""
        return (
            ReturnStatus.REFUNDED if self.refund_status is RefundStatus.COMPLETED else ReturnStatus.RECEIVED
        )


def return_number(order_number: str) -> str:
    """The return of a seeded order: RMA- and the order's digits, clear of the service's counter.

    The service numbers returns RMA-000001 upwards; seeded orders start at 100001 (demo) and
    1000000 (scale data), far beyond what a demo shop's counter reaches.
    """
    return order_number.replace("ORD-", "RMA-", 1)


def money_back(
    order_number: str,
    steps: Sequence[OrderStatus],
    changed_at: Mapping[OrderStatus, datetime],
    until: datetime,
) -> MoneyBack | None:
    """What a cancelled-after-payment or returned order owes the customer, as the service would record it.

    Its own random stream per order: the order streams (and so every order of the demo and
    scale data, which tests and benchmarks sample) stay what they were.
    """
    final = steps[-1]
    if final is OrderStatus.CANCELLED and OrderStatus.PAID in steps:
        # cancel_order: a paid order gets a refund of its total.
        rng, created = random.Random(f"refund-{order_number}"), changed_at[OrderStatus.CANCELLED]
        requested = received = None
        reason: str | None = "order cancelled"
    elif final is OrderStatus.RETURNED:
        rng, received = random.Random(f"return-{order_number}"), changed_at[OrderStatus.RETURNED]
        delivered = changed_at[OrderStatus.DELIVERED]
        requested, created = delivered + (received - delivered) * rng.uniform(0.1, 0.5), received
        reason = rng.choice(RETURN_REASONS)
    else:
        return None
    completed = created + timedelta(days=rng.uniform(1, 6))
    if completed < until:
        return MoneyBack(RefundStatus.COMPLETED, created, completed, reason, requested, received)
    status = RefundStatus.PROCESSING if rng.random() < 0.5 else RefundStatus.PENDING
    return MoneyBack(status, created, None, reason, requested, received)


@dataclass(frozen=True, slots=True)
class DemoOrder:
    """A hand-picked order the README and tests refer to by number."""

    number: str
    email: str
    status: OrderStatus
    description: str


DEMO_CUSTOMER_EMAIL = "alice.martin@example.com"
DEMO_ORDERS = (
    DemoOrder("ORD-100001", DEMO_CUSTOMER_EMAIL, OrderStatus.SHIPPED, "in transit, with tracking"),
    DemoOrder("ORD-100002", DEMO_CUSTOMER_EMAIL, OrderStatus.PAID, "paid, not yet shipped"),
    DemoOrder(
        "ORD-100003", DEMO_CUSTOMER_EMAIL, OrderStatus.DELIVERED, "delivered, inside the return window"
    ),
)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _history(
    order: Order, statuses: list[OrderStatus], placed: datetime, until: datetime, rng: random.Random
) -> datetime:
    """Append one status change per step, spread between `placed` and `until`; return the last time."""
    step = (until - placed) / len(statuses)
    moment = placed
    for status in statuses:
        order.status_history.append(OrderStatusChange(status=status, changed_at=moment))
        moment += step * rng.uniform(0.5, 1.0)
    order.status = statuses[-1]
    return order.status_history[-1].changed_at


def _build_order(
    rng: random.Random, *, sequence: int, customer: Customer, status: OrderStatus, anchor: date, age_days: int
) -> Order:
    city, country, postal = rng.choice(CITIES)
    lines = rng.sample(PRODUCTS, k=rng.randint(1, 3))
    items = [
        OrderItem(sku=sku, name=name, quantity=rng.randint(1, 2), unit_price_cents=price)
        for sku, name, price in lines
    ]
    # Everything happens before the anchor's midnight, so nothing lies in the future.
    until = _midnight(anchor)
    placed = until - timedelta(days=age_days, hours=rng.randint(2, 20))
    order = Order(
        number=format_order_number(sequence),
        customer=customer,
        email=customer.email,
        currency="EUR",
        total_cents=sum(i.quantity * i.unit_price_cents for i in items),
        shipping_address={
            "name": customer.full_name,
            "line1": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
            "line2": None,
            "city": city,
            "postal_code": postal,
            "country": country,
        },
        placed_at=placed,
        items=items,
    )
    if status is OrderStatus.CANCELLED:
        steps = [*LIFECYCLE[: rng.randint(1, 2)], OrderStatus.CANCELLED]
    elif status is OrderStatus.RETURNED:
        steps = [*LIFECYCLE, OrderStatus.RETURNED]
    else:
        steps = list(LIFECYCLE[: LIFECYCLE.index(status) + 1])
    last = _history(order, steps, placed, until, rng)
    if OrderStatus.SHIPPED in steps:
        carrier, url = rng.choice(CARRIERS)
        tracking = f"{carrier[:2].upper()}{rng.randint(10**9, 10**10 - 1)}"
        shipped_at = order.status_history[steps.index(OrderStatus.SHIPPED)].changed_at
        delivered = OrderStatus.DELIVERED in steps
        order.shipments.append(
            Shipment(
                carrier=carrier,
                tracking_number=tracking,
                tracking_url=url.format(tracking),
                estimated_delivery=(shipped_at + timedelta(days=3)).date(),
                shipped_at=shipped_at,
                delivered_at=order.status_history[steps.index(OrderStatus.DELIVERED)].changed_at
                if delivered
                else None,
            )
        )
    order.updated_at = last
    changed_at = {change.status: change.changed_at for change in order.status_history}
    if (owed := money_back(order.number, steps, changed_at, until)) is not None:
        refund = Refund(
            amount_cents=order.total_cents,
            currency=order.currency,
            status=owed.refund_status,
            reason=owed.reason,
            created_at=owed.refund_created_at,
            completed_at=owed.refund_completed_at,
        )
        if owed.return_received_at is not None:
            order.returns.append(
                OrderReturn(
                    number=return_number(order.number),
                    status=owed.return_status,
                    reason=owed.reason,
                    items=[],
                    requested_at=owed.return_requested_at,
                    received_at=owed.return_received_at,
                    resolved_at=owed.refund_completed_at,
                )
            )
        order.refunds.append(refund)
    return order


def _status_for_age(rng: random.Random, age_days: int) -> OrderStatus:
    """A plausible status for an order placed `age_days` ago."""
    if rng.random() < 0.06:
        return OrderStatus.CANCELLED
    if age_days <= 1:
        return rng.choice((OrderStatus.PLACED, OrderStatus.PAID))
    if age_days <= 3:
        return rng.choice((OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.SHIPPED))
    if age_days <= 6:
        return rng.choice((OrderStatus.SHIPPED, OrderStatus.DELIVERED))
    return OrderStatus.RETURNED if rng.random() < 0.05 else OrderStatus.DELIVERED


def _customer(name: str, email: str, phone: str | None) -> Customer:
    return Customer(
        full_name=name,
        email=email,
        phone=phone,
        phone_digits=phone_digits(phone),
        emails=[CustomerEmail(email=email)],
    )


async def seed_demo_data(
    session: AsyncSession, *, anchor: date | None = None, customers: int = 300, orders: int = 2500
) -> bool:
    """Fill an empty database with the demo shop. Returns False (and does nothing) if not empty."""
    existing = await session.scalar(select(func.count()).select_from(Customer))
    if existing:
        return False
    anchor = anchor or datetime.now(UTC).date()
    rng = random.Random(SEED)

    demo_customer = _customer("Alice Martin", DEMO_CUSTOMER_EMAIL, "+33 6 12 34 56 78")
    people = [demo_customer]
    used_emails = {DEMO_CUSTOMER_EMAIL}
    while len(people) < customers:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}{rng.randint(1, 999)}@example.com".lower().replace("'", "")
        if email in used_emails:
            continue
        used_emails.add(email)
        phone = f"+49 151 {rng.randint(1000000, 9999999)}" if rng.random() < 0.7 else None
        people.append(_customer(f"{first} {last}", email, phone))
    session.add_all(people)

    # The hand-picked demo orders come first, so their numbers are stable.
    ages = {OrderStatus.SHIPPED: 2, OrderStatus.PAID: 1, OrderStatus.DELIVERED: 7}
    built: list[Order] = []
    for sequence, demo in enumerate(DEMO_ORDERS, start=1):
        built.append(
            _build_order(
                rng,
                sequence=100_000 + sequence,
                customer=demo_customer,
                status=demo.status,
                anchor=anchor,
                age_days=ages[demo.status],
            )
        )
    for sequence in range(100_001 + len(DEMO_ORDERS), 100_001 + orders):
        age_days = rng.randint(0, 120)
        built.append(
            _build_order(
                rng,
                sequence=sequence,
                customer=rng.choice(people),
                status=_status_for_age(rng, age_days),
                anchor=anchor,
                age_days=age_days,
            )
        )
    session.add_all(built)
    await session.flush()
    for order in built:
        # A returned order's refund pays for its return (both built, so loaded: no lazy load).
        if order.status is OrderStatus.RETURNED:
            order.refunds[0].return_id = order.returns[0].id
    await seed_support_history(session, rng=rng, customers=people, anchor=anchor, scale=orders)
    return True


async def seed_faq_articles(session: AsyncSession, directory: Path = ARTICLES_DIR) -> int:
    """Load the knowledge base files into an empty FAQ table; returns how many were loaded.

    Only an empty table is filled: once the KB lives in the CRM, admins own it through the
    API, and a restart must not overwrite their edits with the files.
    """
    if await session.scalar(select(func.count()).select_from(FaqArticle)):
        return 0
    try:
        articles = [ArticleCreate.model_validate(entry) for entry in load_articles(directory)]
    except (ContentError, ValidationError) as exc:
        raise ValueError(f"faq/articles: {exc}") from exc
    # No index here: the CRM's start-up build encodes the new articles and stores their vectors.
    result = await upsert_articles(session, articles=articles, actor=SYSTEM_PRINCIPAL)
    return len(result.created)
