"""Conversation and message payloads, and the field types every chat payload shares."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, RootModel, model_validator

from crm_backend.conversations.models import ConversationStatus, MessageAuthor
from crm_backend.core.enums import Channel

MAX_DB_ID = 2**31 - 1
MAX_TEXT_LENGTH = 20_000
MAX_BATCH_SIZE = 500
# Rasa's sender id, as it appears in URLs: anything but "/" (and NUL, which PostgreSQL refuses).
SENDER_ID_PATTERN = r"^[^/\x00]+$"


def _without_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here instead of failing at INSERT time.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("timestamp out of range") from exc


def _finite_json(value: dict[str, Any]) -> dict[str, Any]:
    # JSON parsing accepts NaN and Infinity, but neither PostgreSQL nor our responses can carry them.
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite")
        if isinstance(item, str):
            _without_nul(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value


CleanStr = Annotated[str, AfterValidator(_without_nul)]
UTCTimestamp = Annotated[AwareDatetime, AfterValidator(_in_utc)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_finite_json)]
SenderId = Annotated[CleanStr, Field(min_length=1, max_length=255, pattern=SENDER_ID_PATTERN)]


class MessageCreate(BaseModel):
    """One message to append; `event_id` makes a redelivered event a no-op."""

    event_id: CleanStr | None = Field(default=None, min_length=1, max_length=64)
    author: MessageAuthor
    text: CleanStr = Field(default="", max_length=MAX_TEXT_LENGTH)
    channel: Channel
    payload: JsonObject | None = Field(default=None, description="Buttons, images, other structured content")
    intent: CleanStr | None = Field(default=None, min_length=1, max_length=100)
    intent_confidence: float | None = Field(default=None, ge=0, le=1)
    sent_at: UTCTimestamp | None = Field(default=None, description="Timezone-aware; default: now")
    is_internal: bool = Field(default=False, description="An agents' note, never shown to the customer")

    @model_validator(mode="after")
    def _has_content(self) -> MessageCreate:
        if not self.text.strip() and not self.payload:
            raise ValueError("give a text or a payload")
        return self


class MessageBatch(RootModel[Annotated[list[MessageCreate], Field(min_length=1, max_length=MAX_BATCH_SIZE)]]):
    """1 to 500 messages of one conversation, stored in the given order."""


class BatchResult(BaseModel):
    stored: int
    duplicates: int


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str | None
    author: MessageAuthor
    agent_id: int | None
    channel: Channel
    text: str
    payload: dict[str, Any] | None
    intent: str | None
    intent_confidence: float | None
    is_internal: bool
    sent_at: datetime
    stored_at: datetime


class ConversationSummary(BaseModel):
    """A conversation in a list."""

    model_config = ConfigDict(from_attributes=True)

    sender_id: str
    channel: Channel
    customer_id: int | None
    status: ConversationStatus
    started_at: datetime
    last_message_at: datetime
    message_count: int


class ConversationRead(ConversationSummary):
    """A conversation with its latest messages, oldest first."""

    messages: list[MessageRead]


class CustomerLink(BaseModel):
    customer_id: int = Field(ge=1, le=MAX_DB_ID)
