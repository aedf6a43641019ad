"""Customer payloads in and out of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from crm_backend.core.enums import Channel

# A segment label: letters, digits, spaces, "-" and "_"; stored lower-cased.
Tag = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=1, max_length=40, pattern=r"^[\w\- ]+$"
    ),
]


class AddressIn(BaseModel):
    label: str | None = Field(default=None, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern="^[A-Za-z]{2}$")
    is_default: bool = False


class AddressRead(AddressIn):
    model_config = ConfigDict(from_attributes=True)

    id: int


class IdentityIn(BaseModel):
    channel: Channel
    external_id: str = Field(min_length=1, max_length=255)


class IdentityRead(IdentityIn):
    model_config = ConfigDict(from_attributes=True)

    created_at: datetime
    last_seen_at: datetime


class CustomerCreate(BaseModel):
    full_name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, min_length=3, max_length=32, pattern=r"^[+\d][\d ()./-]*$")
    preferred_channel: Channel | None = None
    language: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    marketing_consent: bool = False
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=20)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)


class CustomerUpdate(BaseModel):
    """Contact details and preferences; omitted fields stay as they are."""

    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=320, description="Becomes the primary email")
    phone: str | None = Field(default=None, min_length=3, max_length=32, pattern=r"^[+\d][\d ()./-]*$")
    preferred_channel: Channel | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    marketing_consent: bool | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)


class CustomerSummary(BaseModel):
    """A customer in a list."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    full_name: str
    email: str | None
    phone: str | None
    preferred_channel: Channel | None
    language: str
    created_at: datetime


class CustomerRead(CustomerSummary):
    """A customer with every address, identity and tag."""

    marketing_consent: bool
    marketing_consent_at: datetime | None
    merged_into_id: int | None
    erased_at: datetime | None
    updated_at: datetime
    emails: list[str]
    addresses: list[AddressRead]
    identities: list[IdentityRead]
    tags: list[str]


class ResolveRequest(BaseModel):
    """Who is writing on a channel: find their customer record, or start one."""

    channel: Channel
    external_id: str = Field(min_length=1, max_length=255)
    email: EmailStr | None = Field(default=None, max_length=320)
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    customer_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,  # the id column's range: larger ids are a 422, not a database error
        description="Who it is, when the caller has proven it (a verified order): "
        "the identity is attached to this customer, or 409 if it belongs to another.",
    )
    phone: str | None = Field(default=None, min_length=3, max_length=32, pattern=r"^[+\d][\d ()./-]*$")
    email_proven: bool = Field(
        default=False,
        description="The caller has checked that the email is this person's (a login, a confirmed "
        "link). Only then does an email that belongs to a customer attach the channel identity and "
        "link its conversations; an unproven one (typed in a chat) finds whom to answer and no more.",
    )


class ResolveResponse(BaseModel):
    # The summary, not the whole record: the bot resolves every conversation, and a customer
    # may hold many identities. GET /api/customers/{id} has the rest.
    customer: CustomerSummary
    created: bool
    matched_by: str | None = Field(
        description="customer_id, identity, email, email_unproven (found by an unproven email: "
        "nothing was attached), or null for a new customer"
    )


class DuplicateCandidate(BaseModel):
    customer: CustomerSummary
    reasons: list[str]


class MergeRequest(BaseModel):
    duplicate_id: int = Field(ge=1, le=2**31 - 1)


class EmailAdd(BaseModel):
    email: EmailStr = Field(max_length=320)
