"""Ticket payloads in and out of the API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from crm_backend.core.enums import ActorKind, Channel
from crm_backend.tickets.models import TicketPriority, TicketStatus

# PostgreSQL cannot store NUL in text; refusing it here keeps it a 422 rather than a 500.
NO_NUL = r"^[^\x00]*$"
DatabaseId = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Subject = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)
]
CommentBody = Annotated[
    str, StringConstraints(min_length=1, max_length=20_000, pattern=NO_NUL), AfterValidator(_not_blank)
]


class TicketCategory(StrEnum):
    """What a ticket is about; agents filter and route by it."""

    ORDER = "order"
    SHIPPING = "shipping"
    RETURN = "return"
    REFUND = "refund"
    PAYMENT = "payment"
    ACCOUNT = "account"
    COMPLAINT = "complaint"
    FEEDBACK = "feedback"
    TECHNICAL = "technical"
    OTHER = "other"


class TicketCreate(BaseModel):
    """A new ticket, optionally linked to a customer, an order and a conversation."""

    subject: Subject
    description: str = Field(default="", max_length=20_000, pattern=NO_NUL)
    category: TicketCategory = TicketCategory.OTHER
    priority: TicketPriority = TicketPriority.NORMAL
    channel: Channel = Channel.API
    customer_id: DatabaseId | None = None
    order_number: str | None = Field(default=None, min_length=1, max_length=40, examples=["ORD-100001"])
    conversation_sender_id: str | None = Field(default=None, min_length=1, max_length=255, pattern=NO_NUL)


class TicketUpdate(BaseModel):
    """Fields an agent may change; omitted fields stay as they are, `assignee_id: null` unassigns."""

    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    category: TicketCategory | None = None
    subject: Subject | None = None
    assignee_id: DatabaseId | None = None


class CommentCreate(BaseModel):
    """A reply or an internal note; `from_customer` relays the customer's own words (service only)."""

    body: CommentBody
    is_public: bool = True
    from_customer: bool = False

    @model_validator(mode="after")
    def _customer_words_are_public(self) -> CommentCreate:
        if self.from_customer and not self.is_public:
            raise ValueError("a customer's message cannot be an internal note")
        return self


class TicketLookup(BaseModel):
    """Prove a ticket is the customer's: its number plus their email or verified customer id."""

    number: str = Field(min_length=1, max_length=40, examples=["TCK-000001"])
    email: EmailStr | None = Field(default=None, max_length=320)
    customer_id: DatabaseId | None = None

    @model_validator(mode="after")
    def _exactly_one_proof(self) -> TicketLookup:
        if (self.email is None) == (self.customer_id is None):
            raise ValueError("give exactly one of email or customer_id")
        return self


class TicketCommentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    author_kind: ActorKind
    author_agent_id: int | None
    body: str
    is_public: bool
    created_at: datetime


class TicketSummary(BaseModel):
    """A ticket in a list."""

    number: str
    subject: str
    status: TicketStatus
    priority: TicketPriority
    # Plain text on the way out: a category stored by older code must never fail a read.
    category: str
    channel: Channel
    customer_id: int | None
    order_number: str | None
    conversation_sender_id: str | None
    assignee_id: int | None
    sla_due_at: datetime
    overdue: bool
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    closed_at: datetime | None


class TicketRead(TicketSummary):
    """A ticket with its description and every comment, internal notes included."""

    description: str
    comments: list[TicketCommentRead]


class PublicCommentRead(BaseModel):
    """A reply the customer may see; no agent ids."""

    model_config = ConfigDict(from_attributes=True)

    author_kind: ActorKind
    body: str
    created_at: datetime


class TicketStatusForCustomer(BaseModel):
    """What the bot may tell the customer about their ticket."""

    model_config = ConfigDict(from_attributes=True)

    number: str
    subject: str
    status: TicketStatus
    category: str
    created_at: datetime
    updated_at: datetime
    comments: list[PublicCommentRead]
