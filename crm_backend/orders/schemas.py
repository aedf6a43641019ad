"""Order payloads in and out of the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crm_backend.orders.emails import FastEmailStr
from crm_backend.orders.models import OrderStatus, RefundStatus, ReturnStatus


class Address(BaseModel):
    """A postal address."""

    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(
        min_length=2, max_length=2, pattern="^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2"
    )


class OwnershipProof(BaseModel):
    """How the bot proves the customer owns an order: the email on it, or a verified customer id.

    Agents need no proof; the service token must send exactly one.
    """

    email: FastEmailStr | None = Field(default=None, max_length=320)
    customer_id: int | None = Field(default=None, ge=1, le=2**31 - 1)

    @model_validator(mode="after")
    def _at_most_one(self) -> OwnershipProof:
        if self.email is not None and self.customer_id is not None:
            raise ValueError("give either email or customer_id, not both")
        return self

    @property
    def given(self) -> bool:
        return self.email is not None or self.customer_id is not None


class OrderLookup(OwnershipProof):
    """Prove ownership of an order: its number plus the checkout email (or a verified customer id)."""

    order_number: str = Field(min_length=1, max_length=40, examples=["ORD-100001"])

    @model_validator(mode="after")
    def _exactly_one(self) -> OrderLookup:
        if not self.given:
            raise ValueError("give the email on the order or the customer_id")
        return self


class CancelRequest(OwnershipProof):
    reason: str | None = Field(default=None, max_length=500)


class AddressChange(OwnershipProof):
    address: Address


class ReturnItem(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1000)


class ReturnRequest(OwnershipProof):
    reason: str | None = Field(default=None, max_length=500)
    items: list[ReturnItem] = Field(
        default_factory=list, max_length=100, description="Empty: the whole order"
    )


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


class ReturnRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: str
    status: ReturnStatus
    reason: str | None
    items: list[dict[str, Any]]
    requested_at: datetime
    received_at: datetime | None
    resolved_at: datetime | None


class RefundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    amount_cents: int
    currency: str
    status: RefundStatus
    reason: str | None
    created_at: datetime
    completed_at: datetime | None


class OrderSummary(BaseModel):
    """An order in a list."""

    model_config = ConfigDict(from_attributes=True)

    number: str
    customer_id: int
    status: OrderStatus
    currency: str
    total_cents: int
    placed_at: datetime


class OrderVerdicts(BaseModel):
    """What the rules say about an order; OrderRead's last two fields."""

    can_cancel: bool
    return_window_ends: datetime | None


class OrderRead(OrderSummary):
    """An order with everything support needs: items, parcels, history, returns and refunds."""

    email: str
    shipping_address: Address
    items: list[OrderItemRead]
    shipments: list[ShipmentRead]
    status_history: list[OrderStatusChangeRead]
    returns: list[ReturnRead]
    refunds: list[RefundRead]
    can_cancel: bool
    return_window_ends: datetime | None
