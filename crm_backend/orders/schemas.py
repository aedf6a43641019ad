"""Order payloads in and out of the API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from crm_backend.orders.models import OrderStatus


class Address(BaseModel):
    """A postal address."""

    name: str = Field(max_length=200)
    line1: str = Field(max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(max_length=100)
    postal_code: str = Field(max_length=20)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")


class OrderLookup(BaseModel):
    """Prove ownership of an order: its number plus the email given at checkout."""

    order_number: str = Field(min_length=1, max_length=40, examples=["ORD-100001"])
    email: EmailStr = Field(max_length=320, examples=["alice.martin@example.com"])


class OrderItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    name: str
    quantity: int
    unit_price_cents: int


class ShipmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    carrier: str
    tracking_number: str
    tracking_url: str | None
    estimated_delivery: date | None
    shipped_at: datetime
    delivered_at: datetime | None


class OrderStatusChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: OrderStatus
    changed_at: datetime
    note: str | None


class OrderRead(BaseModel):
    """An order with everything support needs to answer "where is it?"."""

    model_config = ConfigDict(from_attributes=True)

    number: str
    customer_id: int
    email: str
    status: OrderStatus
    currency: str
    total_cents: int
    shipping_address: Address
    placed_at: datetime
    items: list[OrderItemRead]
    shipments: list[ShipmentRead]
    status_history: list[OrderStatusChangeRead]
