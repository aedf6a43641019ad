"""HTTP routes for canned responses: agents read them, admins manage them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from crm_backend.auth.dependencies import AdminDep, AgentDep
from crm_backend.canned import repository, service
from crm_backend.canned.schemas import CannedCreate, CannedRead, CannedUpdate
from crm_backend.core.dependencies import SessionDep
from crm_backend.core.pagination import Page, PageDep, paginate
from crm_backend.core.params import IdPath

router = APIRouter(prefix="/api/canned-responses", tags=["canned responses"])


@router.get("", response_model=Page[CannedRead])
async def list_canned(
    session: SessionDep,
    page: PageDep,
    _agent: AgentDep,
    category: Annotated[str | None, Query(min_length=1, max_length=60)] = None,
    is_active: Annotated[bool | None, Query()] = True,
    q: Annotated[str | None, Query(max_length=200, description="Text in shortcut, title or text")] = None,
) -> Page[CannedRead]:
    """Canned responses by category and shortcut (active ones unless is_active is given)."""
    statement = repository.filtered(category=category, is_active=is_active, q=q)
    return await paginate(session, statement, page, CannedRead)


@router.get("/{canned_id}", response_model=CannedRead)
async def get_canned(canned_id: IdPath, session: SessionDep, _agent: AgentDep) -> CannedRead:
    """One canned response."""
    return CannedRead.model_validate(await service.get_canned(session, canned_id))


@router.post("", response_model=CannedRead, status_code=status.HTTP_201_CREATED)
async def create_canned(payload: CannedCreate, session: SessionDep, admin: AdminDep) -> CannedRead:
    """Add a canned response (admins only)."""
    return CannedRead.model_validate(await service.create_canned(session, data=payload, actor=admin))


@router.patch("/{canned_id}", response_model=CannedRead)
async def update_canned(
    canned_id: IdPath, payload: CannedUpdate, session: SessionDep, admin: AdminDep
) -> CannedRead:
    """Edit, rename, recategorise or retire a canned response (admins only)."""
    canned = await service.update_canned(session, canned_id=canned_id, data=payload, actor=admin)
    return CannedRead.model_validate(canned)


@router.delete("/{canned_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_canned(canned_id: IdPath, session: SessionDep, admin: AdminDep) -> Response:
    """Delete a canned response (admins only)."""
    await service.delete_canned(session, canned_id=canned_id, actor=admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
