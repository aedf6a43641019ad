"""HTTP routes for the audit log (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crm_backend.audit import repository
from crm_backend.audit.schemas import AuditEntryRead
from crm_backend.auth.dependencies import AdminDep
from crm_backend.core.dependencies import SessionDep
from crm_backend.core.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEntryRead])
async def list_audit_entries(
    session: SessionDep,
    page: PageDep,
    _admin: AdminDep,
    entity_type: Annotated[str | None, Query(max_length=40)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    actor_id: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[AuditEntryRead]:
    """Who changed what, newest first."""
    statement = repository.filtered(
        entity_type=entity_type, entity_id=entity_id, action=action, actor_id=actor_id
    )
    return await paginate(session, statement, page, AuditEntryRead)
