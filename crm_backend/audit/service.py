"""Recording changes in the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.audit.models import AuditEntry
from crm_backend.auth.principal import Principal


async def record(
    session: AsyncSession,
    *,
    actor: Principal,
    action: str,
    entity_type: str,
    entity_id: str | int,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction: the change and its record commit together."""
    entry = AuditEntry(
        actor_kind=actor.kind,
        actor_id=actor.id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        changes=changes or {},
    )
    session.add(entry)
    await session.flush()
    return entry


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{"field": {"from": old, "to": new}} for every field whose value changed."""
    return {
        key: {"from": before.get(key), "to": value}
        for key, value in after.items()
        if before.get(key) != value
    }
