"""Forget stored idempotent responses once no retry can still come.

The stored bodies are copies of what the CRM answered (tickets, handoffs, customer
details): keeping them forever would grow the table without end and keep personal data
that erasure (customers/privacy.py) cannot see. A retry comes within seconds, or within the
action server's outbox delivery (minutes to hours when the CRM was down), so a week is
plenty; a key used again after that simply runs again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_backend.core.types import utcnow
from crm_backend.idempotency.models import IdempotencyRecord

logger = logging.getLogger(__name__)


async def prune_older_than(session: AsyncSession, cutoff: datetime) -> int:
    """Delete the records created before `cutoff`; how many went."""
    result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


async def prune_once(session_factory: async_sessionmaker[AsyncSession], retention: timedelta) -> int:
    """One pass in its own transaction; how many records were deleted."""
    async with session_factory() as session, session.begin():
        deleted = await prune_older_than(session, utcnow() - retention)
    if deleted:
        logger.info("idempotency: forgot %d stored responses older than %s", deleted, retention)
    return deleted


async def keep_pruning(
    session_factory: async_sessionmaker[AsyncSession], *, retention: timedelta, every_seconds: float
) -> None:
    """Prune now and then every `every_seconds`, until cancelled.

    Several CRM processes may each run this: deleting rows already gone is harmless.
    A failed pass (database briefly away) is logged and tried again next time.
    """
    while True:
        try:
            await prune_once(session_factory, retention)
        except Exception:
            logger.exception("idempotency: pruning failed; trying again in %.0f s", every_seconds)
        await asyncio.sleep(every_seconds)
