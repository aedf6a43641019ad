"""All SQL about the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from crm_backend.audit.models import AuditEntry


def filtered(
    *, entity_type: str | None, entity_id: str | None, action: str | None, actor_id: str | None
) -> Select[Any]:
    """Newest first, narrowed by whichever filters are given."""
    statement = select(AuditEntry).order_by(AuditEntry.id.desc())
    if entity_type:
        statement = statement.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        statement = statement.where(AuditEntry.entity_id == entity_id)
    if action:
        statement = statement.where(AuditEntry.action == action)
    if actor_id:
        statement = statement.where(AuditEntry.actor_id == actor_id)
    return statement
