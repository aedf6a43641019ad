"""Start and stop the pipeline's parts with the app: Redis, the stream consumer, the Rasa client."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass

from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_backend.core.config import Settings
from crm_backend.events.consumer import EventConsumer
from crm_backend.events.live import LivePublisher
from crm_backend.rasa.client import RasaClient

logger = logging.getLogger(__name__)


@dataclass
class Pipeline:
    """What `start` created, for `stop`."""

    redis: Redis | None = None
    consumer: EventConsumer | None = None
    task: asyncio.Task[None] | None = None
    rasa: RasaClient | None = None

    async def stop(self) -> None:
        """Stop consuming (an entry being recorded is simply redelivered later), close clients."""
        if self.task is not None:
            self.task.cancel()
            with suppress(asyncio.CancelledError):
                await self.task
        if self.consumer is not None:
            with suppress(Exception):
                await self.consumer.release_lease()
        if self.redis is not None:
            await self.redis.aclose()
        if self.rasa is not None:
            await self.rasa.aclose()


async def start(
    app: FastAPI, settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> Pipeline:
    """Set app.state.live and app.state.rasa, and start the consumer task, as configured."""
    pipeline = Pipeline()
    app.state.live = None
    app.state.rasa = None
    if settings.rasa_url:
        pipeline.rasa = RasaClient(
            settings.rasa_url, token=settings.rasa_token, timeout=settings.rasa_timeout_seconds
        )
        app.state.rasa = pipeline.rasa
    else:
        logger.warning("CRM_RASA_URL is not set: agents cannot reply through the assistant")
    if not settings.redis_url:
        logger.warning("CRM_REDIS_URL is not set: no conversation events from Rasa, no live updates")
        return pipeline
    pipeline.redis = Redis.from_url(settings.redis_url, socket_connect_timeout=2, health_check_interval=30)
    app.state.live = LivePublisher(pipeline.redis, settings.live_channel)
    if settings.consume_events:
        pipeline.consumer = EventConsumer(
            redis=pipeline.redis,
            session_factory=session_factory,
            stream=settings.event_stream,
            group=settings.event_group,
            name=settings.event_consumer_name,
            publisher=app.state.live,
            widget_token_secret=settings.widget_token_secret,
        )
        pipeline.task = asyncio.create_task(pipeline.consumer.run(), name="event-consumer")
        logger.info(
            "consuming %r as %r in group %r",
            settings.event_stream,
            pipeline.consumer.name,
            settings.event_group,
        )
    return pipeline
