"""Rasa tracker events (as bot/event_broker.py streams them) → what the CRM records."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from crm_backend.conversations.models import ConversationStatus, MessageAuthor
from crm_backend.conversations.schemas import MAX_TEXT_LENGTH, MessageCreate
from crm_backend.core.enums import Channel

# Rasa's input channel names → the CRM's channels (the same table as actions/conversation.py).
RASA_CHANNELS = {
    "rest": Channel.WEB,
    "socketio": Channel.WEB,
    "facebook": Channel.MESSENGER,
    "telegram": Channel.TELEGRAM,
    "twilio": Channel.WHATSAPP,
    "slack": Channel.SLACK,
}
# The parts of a bot event's `data` worth keeping with the message.
BOT_CONTENT = ("buttons", "quick_replies", "image", "attachment", "elements", "custom")
MAX_SENDER_ID = 255
MAX_INTENT = 100


class PoisonEntry(Exception):
    """A stream entry that can never be recorded (not JSON, no sender...): parked, not retried."""


@dataclass(frozen=True)
class MessageEvent:
    """A message to store in the conversation of `sender_id`."""

    sender_id: str
    data: MessageCreate
    agent_id: int | None = None
    # Bot events carry no channel: the message takes the conversation's.
    inherit_channel: bool = False
    # The shop's signed token a website widget sent with a customer message (crm_backend/widget/signed_in.py).
    customer_token: str | None = None


@dataclass(frozen=True)
class StatusEvent:
    """The bot was paused (handed off) or resumed for the conversation."""

    sender_id: str
    status: ConversationStatus


Recorded = MessageEvent | StatusEvent


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sent_at(event: dict[str, Any]) -> datetime | None:
    timestamp = event.get("timestamp")
    if isinstance(timestamp, int | float) and math.isfinite(timestamp) and 0 < timestamp < 32503680000:
        return datetime.fromtimestamp(timestamp, UTC)
    return None


def _text(event: dict[str, Any]) -> str:
    text = event.get("text")
    # Rasa accepts any length; the record keeps the first 20,000 characters rather than nothing.
    return text[:MAX_TEXT_LENGTH].replace("\x00", "") if isinstance(text, str) else ""


def _user_message(event: dict[str, Any], event_id: str) -> MessageCreate | None:
    text = _text(event)
    if not text.strip():
        return None
    intent = _object(_object(event.get("parse_data")).get("intent"))
    name = intent.get("name") if isinstance(intent.get("name"), str) and intent.get("name") else None
    confidence = intent.get("confidence")
    if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        confidence = None
    return MessageCreate(
        event_id=event_id,
        author=MessageAuthor.CUSTOMER,
        text=text,
        channel=RASA_CHANNELS.get(str(event.get("input_channel") or ""), Channel.API),
        intent=name[:MAX_INTENT] if name else None,
        intent_confidence=confidence,
        sent_at=_sent_at(event),
    )


def _bot_message(event: dict[str, Any], event_id: str, *, from_agent: bool) -> MessageCreate | None:
    data = _object(event.get("data"))
    payload = {key: data[key] for key in BOT_CONTENT if data.get(key)} or None
    text = _text(event)
    if not text.strip() and not payload:
        return None
    return MessageCreate(
        event_id=event_id,
        author=MessageAuthor.AGENT if from_agent else MessageAuthor.BOT,
        text=text,
        channel=Channel.API,
        payload=payload,
        sent_at=_sent_at(event),
    )


def _notice(notice: dict[str, Any], event_id: str, sent_at: datetime | None) -> MessageCreate:
    # An agent joined, left or closed (crm_backend/handoffs/notices.py): a system message,
    # never customer or bot text, stored under the CRM's id so it is not stored twice.
    text = notice.get("text")
    handoff = {key: notice.get(key) for key in ("agent_name", "state")}
    return MessageCreate(
        event_id=event_id,
        author=MessageAuthor.SYSTEM,
        text=text[:MAX_TEXT_LENGTH] if isinstance(text, str) and text.strip() else "An agent update.",
        channel=Channel.API,
        payload={"handoff": handoff},
        sent_at=sent_at,
    )


def _widget_token(data: MessageCreate, metadata: dict[str, Any]) -> str | None:
    token = metadata.get("customer_token")
    return token if data.channel is Channel.WEB and isinstance(token, str) and token else None


def _agent_id(metadata: dict[str, Any]) -> int | None:
    value = metadata.get("agent_id")
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31 else None


def parse_entry(entry_id: str, fields: dict[str, str]) -> Recorded | None:
    """What a stream entry means for the CRM; None for events it ignores; PoisonEntry if unreadable."""
    try:
        event = json.loads(fields["event"])
    except (KeyError, TypeError, ValueError) as error:
        raise PoisonEntry(f"not a JSON event: {error}") from error
    if not isinstance(event, dict):
        raise PoisonEntry("the event is not a JSON object")
    sender_id = event.get("sender_id")
    if not isinstance(sender_id, str) or not 0 < len(sender_id) <= MAX_SENDER_ID or "/" in sender_id:
        raise PoisonEntry("no usable sender_id")
    if "\x00" in sender_id:
        raise PoisonEntry("sender_id contains NUL")
    kind = event.get("event")
    metadata = _object(event.get("metadata"))
    # The CRM's own id for messages it sent through Rasa, so their echo is recognised;
    # else the broker's id, fixed before its first attempt, so its retries are too.
    event_id = str(metadata.get("crm_event_id") or fields.get("event_id") or entry_id)[:64]
    try:
        if kind == "user":
            data = _user_message(event, event_id)
            return (
                None
                if data is None
                else MessageEvent(sender_id, data, customer_token=_widget_token(data, metadata))
            )
        if kind == "bot" and isinstance(metadata.get("crm_notice"), dict):
            notice = _notice(metadata["crm_notice"], event_id, _sent_at(event))
            return MessageEvent(sender_id, notice, inherit_channel=True)
        if kind == "bot":
            agent_id = _agent_id(metadata)
            data = _bot_message(event, event_id, from_agent=agent_id is not None)
            if data is None:
                return None
            return MessageEvent(sender_id, data, agent_id=agent_id, inherit_channel=True)
    except ValidationError as error:
        raise PoisonEntry(f"not a valid message: {error.errors()[0].get('msg')}") from error
    if kind == "pause":
        return StatusEvent(sender_id, ConversationStatus.HANDED_OFF)
    if kind == "resume":
        return StatusEvent(sender_id, ConversationStatus.ACTIVE)
    return None
