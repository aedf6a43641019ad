"""Reading what the tickets API left in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.audit.models import AuditEntry


async def audit_entries(session: AsyncSession, number: str, action: str) -> list[AuditEntry]:
    """The audit entries recorded for one ticket and action, oldest first."""
    rows = await session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity_type == "ticket", AuditEntry.entity_id == number, AuditEntry.action == action
        )
        .order_by(AuditEntry.id)
    )
    return list(rows)


def moment(body: dict[str, Any], field: str) -> datetime:
    """A timestamp field of a response body."""
    return datetime.fromisoformat(body[field])
