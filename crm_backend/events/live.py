"""Live updates for agent consoles: JSON events on a Redis pub/sub channel, after commit.

The event shapes (the console's contract, also in the /api/live route's description):
  {"type": "message.created", "sender_id": str, "message": <MessageRead>}
  {"type": "handoff.changed", "handoff": <HandoffItem>}
  {"type": "conversation.changed", "sender_id": str, "status": str}
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, Request
from redis.asyncio import Redis
from redis.exceptions import RedisError

from crm_backend.conversations.models import ConversationStatus, Message
from crm_backend.conversations.schemas import MessageRead
from crm_backend.handoffs.schemas import HandoffItem

logger = logging.getLogger(__name__)

LiveEvent = dict[str, Any]


def message_created(sender_id: str, message: Message) -> LiveEvent:
    """A message was stored in the conversation."""
    return {
        "type": "message.created",
        "sender_id": sender_id,
        "message": MessageRead.model_validate(message).model_dump(mode="json"),
    }


def handoff_changed(handoff: HandoffItem) -> LiveEvent:
    """A handoff was created, claimed, transferred, released, resolved, abandoned or rated."""
    item = HandoffItem.model_validate(handoff.model_dump(include=set(HandoffItem.model_fields)))
    return {"type": "handoff.changed", "handoff": item.model_dump(mode="json")}


def conversation_changed(sender_id: str, status: ConversationStatus) -> LiveEvent:
    """The conversation's status changed (active, handed_off, closed)."""
    return {"type": "conversation.changed", "sender_id": sender_id, "status": status.value}


class LivePublisher:
    """Publishes live events on one channel; a Redis failure is logged, never raised.

    The data is committed before anything is published: a lost live event only means a
    console shows it on its next reload, never that the CRM lost it.
    """

    def __init__(self, redis: Redis, channel: str) -> None:
        self.redis = redis
        self.channel = channel

    async def publish(self, *events: LiveEvent) -> None:
        """Send the events, in order."""
        try:
            for event in events:
                await self.redis.publish(self.channel, json.dumps(event))
        except RedisError as error:
            logger.warning("live update not published on %r: %s", self.channel, error)


class LiveUpdates:
    """The live events of one request, published after its transaction has committed."""

    def __init__(self, publisher: LivePublisher | None) -> None:
        self._publisher = publisher
        self._events: list[LiveEvent] = []

    def add(self, *events: LiveEvent) -> None:
        """Publish these once the request's work is committed."""
        self._events.extend(events)

    async def publish(self) -> None:
        """Run as a background task, i.e. after the response (and so after the commit)."""
        if self._publisher is not None and self._events:
            await self._publisher.publish(*self._events)
        self._events.clear()


async def live_updates(request: Request, background: BackgroundTasks) -> LiveUpdates:
    """A collector whose events go out after the request's commit (none when Redis is off)."""
    updates = LiveUpdates(getattr(request.app.state, "live", None))
    background.add_task(updates.publish)
    return updates


LiveDep = Annotated[LiveUpdates, Depends(live_updates)]
