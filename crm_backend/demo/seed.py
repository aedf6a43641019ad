"""Deterministic demo data: the same customers and orders for the same anchor date.

Dates are laid out relative to the anchor (by default today), so a freshly seeded
demo always has orders in transit, recently delivered ones inside the return window,
and old ones outside it.
"""

from __future__ import annotations

import random
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
from crm_backend.orders.models import Order, OrderItem, OrderStatus, OrderStatusChange, Shipment
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
    for sequence, demo in enumerate(DEMO_ORDERS, start=1):
        session.add(
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
        session.add(
            _build_order(
                rng,
                sequence=sequence,
                customer=rng.choice(people),
                status=_status_for_age(rng, age_days),
                anchor=anchor,
                age_days=age_days,
            )
        )
    await session.flush()
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
