"""Handoff payloads in and out of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StrictBool

from crm_backend.conversations.models import Conversation
from crm_backend.conversations.schemas import MAX_DB_ID, MAX_TEXT_LENGTH, CleanStr, JsonObject, SenderId
from crm_backend.core.enums import Channel
from crm_backend.handoffs.models import Handoff, HandoffReason, HandoffStatus

MAX_SUMMARY_KEYS = 50


def _few_keys(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_SUMMARY_KEYS:
        raise ValueError(f"at most {MAX_SUMMARY_KEYS} keys")
    return value


class HandoffCreate(BaseModel):
    """The bot asks for a human: which conversation, why, and what it knew so far."""

    sender_id: SenderId
    reason: HandoffReason
    channel: Channel
    customer_id: int | None = Field(default=None, ge=1, le=MAX_DB_ID)
    summary: Annotated[JsonObject, AfterValidator(_few_keys)] = Field(
        default_factory=dict, description="Last intent, slots, the order in question (at most 50 keys)"
    )


class HandoffTransfer(BaseModel):
    agent_id: int = Field(ge=1, le=MAX_DB_ID)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class AgentReply(BaseModel):
    """An agent's reply to the customer of the handoff."""

    text: Annotated[CleanStr, AfterValidator(_not_blank)] = Field(min_length=1, max_length=MAX_TEXT_LENGTH)


class AgentTyping(BaseModel):
    """The agent started or stopped typing a reply."""

    typing: StrictBool


class CsatCreate(BaseModel):
    score: int = Field(ge=1, le=5)
    comment: CleanStr | None = Field(default=None, max_length=2000)


class CsatUpdate(BaseModel):
    """The rest of a rating already scored: the comment, and the score if the customer changed it."""

    score: int | None = Field(default=None, ge=1, le=5)
    comment: CleanStr | None = Field(default=None, max_length=2000)


class HandoffItem(BaseModel):
    """A handoff in a list, with its conversation's sender id and how long the customer waited."""

    id: int
    sender_id: str
    channel: Channel
    customer_id: int | None
    reason: HandoffReason
    status: HandoffStatus
    assignee_id: int | None
    summary: dict[str, Any]
    requested_at: datetime
    claimed_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    csat_score: int | None
    csat_comment: str | None
    wait_seconds: int | None = Field(description="Waiting so far, or until claimed; null otherwise")


class HandoffRead(HandoffItem):
    """One handoff, with its place in the queue and how many agents could take it."""

    queue_position: int | None = Field(description="1-based among waiting handoffs; null unless waiting")
    agents_online: int


def _fields(handoff: Handoff, conversation: Conversation, *, now: datetime) -> dict[str, Any]:
    if handoff.status is HandoffStatus.WAITING:
        wait_seconds: int | None = int((now - handoff.requested_at).total_seconds())
    elif handoff.claimed_at is not None:
        wait_seconds = int((handoff.claimed_at - handoff.requested_at).total_seconds())
    else:
        wait_seconds = None
    return {
        "id": handoff.id,
        "sender_id": conversation.sender_id,
        "channel": conversation.channel,
        "customer_id": conversation.customer_id,
        "reason": handoff.reason,
        "status": handoff.status,
        "assignee_id": handoff.assignee_id,
        "summary": handoff.summary,
        "requested_at": handoff.requested_at,
        "claimed_at": handoff.claimed_at,
        "first_response_at": handoff.first_response_at,
        "resolved_at": handoff.resolved_at,
        "csat_score": handoff.csat_score,
        "csat_comment": handoff.csat_comment,
        "wait_seconds": max(wait_seconds, 0) if wait_seconds is not None else None,
    }


def handoff_item(handoff: Handoff, conversation: Conversation, *, now: datetime) -> HandoffItem:
    """A handoff combined with its conversation, for lists."""
    return HandoffItem(**_fields(handoff, conversation, now=now))


def handoff_read(
    handoff: Handoff,
    conversation: Conversation,
    *,
    now: datetime,
    queue_position: int | None,
    agents_online: int,
) -> HandoffRead:
    """The full view of one handoff."""
    return HandoffRead(
        **_fields(handoff, conversation, now=now), queue_position=queue_position, agents_online=agents_online
    )
