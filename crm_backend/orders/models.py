"""Order tables: orders, their items, shipments and status history."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_backend.core.database import Base
from crm_backend.core.types import UTCDateTime, utcnow
from crm_backend.customers.models import Customer


class OrderStatus(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


# Stored as plain strings (not a native enum) so adding a status is a code change,
# not an ALTER TYPE migration on PostgreSQL.
order_status_type = Enum(
    OrderStatus,
    native_enum=False,
    length=20,
    values_callable=lambda statuses: [s.value for s in statuses],
    validate_strings=True,
)


class Order(Base):
    """A customer's order; `email` is the contact address given at checkout."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[OrderStatus] = mapped_column(order_status_type, default=OrderStatus.PLACED)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    total_cents: Mapped[int] = mapped_column(Integer)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSON)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Shipment.id"
    )
    status_history: Mapped[list[OrderStatusChange]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderStatusChange.id"
    )


class OrderItem(Base):
    """One line of an order."""

    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="items")


class Shipment(Base):
    """A parcel sent for an order, with the carrier's tracking."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(60))
    tracking_number: Mapped[str] = mapped_column(String(60))
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    estimated_delivery: Mapped[date | None] = mapped_column(Date)
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship(back_populates="shipments")


class OrderStatusChange(Base):
    """One step of an order's life, kept so agents can see what happened when."""

    __tablename__ = "order_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[OrderStatus] = mapped_column(order_status_type)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))

    order: Mapped[Order] = relationship(back_populates="status_history")
