"""Business rules for canned responses: unique shortcuts, audited changes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.audit.service import diff, record
from crm_backend.auth.principal import Principal
from crm_backend.canned import repository
from crm_backend.canned.models import CannedResponse
from crm_backend.canned.schemas import CannedCreate, CannedUpdate
from crm_backend.core.errors import Conflict, NotFound

_AUDITED = ("shortcut", "title", "text", "category", "is_active")


class CannedNotFound(NotFound):
    error = "canned_response_not_found"


class CannedShortcutTaken(Conflict):
    error = "canned_shortcut_taken"


def _snapshot(canned: CannedResponse) -> dict[str, object]:
    return {field: getattr(canned, field) for field in _AUDITED}


async def get_canned(session: AsyncSession, canned_id: int) -> CannedResponse:
    """The canned response, or 404."""
    canned = await repository.get(session, canned_id)
    if canned is None:
        raise CannedNotFound(f"No canned response with id {canned_id}.")
    return canned


async def _refuse_taken(session: AsyncSession, shortcut: str, *, own_id: int | None) -> None:
    other = await repository.get_by_shortcut(session, shortcut)
    if other is not None and other.id != own_id:
        raise CannedShortcutTaken(f"The shortcut {shortcut!r} is already used.")


async def create_canned(session: AsyncSession, *, data: CannedCreate, actor: Principal) -> CannedResponse:
    """Add a canned response; shortcuts are unique."""
    await _refuse_taken(session, data.shortcut, own_id=None)
    canned = CannedResponse(shortcut=data.shortcut, title=data.title, text=data.text, category=data.category)
    session.add(canned)
    await session.flush()
    await record(
        session, actor=actor, action="canned.create", entity_type="canned_response", entity_id=canned.id,
        changes=_snapshot(canned),
    )  # fmt: skip
    return canned


async def update_canned(
    session: AsyncSession, *, canned_id: int, data: CannedUpdate, actor: Principal
) -> CannedResponse:
    """Change the given fields of a canned response."""
    canned = await get_canned(session, canned_id)
    before = _snapshot(canned)
    if data.shortcut is not None and data.shortcut != canned.shortcut:
        await _refuse_taken(session, data.shortcut, own_id=canned.id)
    for field, value in data.model_dump(exclude_unset=True).items():
        # category may be cleared with null; the other fields keep their value when null.
        if value is not None or field == "category":
            setattr(canned, field, value)
    await session.flush()
    changes = diff(before, _snapshot(canned))
    if changes:
        await record(
            session, actor=actor, action="canned.update", entity_type="canned_response", entity_id=canned.id,
            changes=changes,
        )  # fmt: skip
    return canned


async def delete_canned(session: AsyncSession, *, canned_id: int, actor: Principal) -> None:
    """Remove a canned response for good (the audit log keeps what it said)."""
    canned = await get_canned(session, canned_id)
    snapshot = _snapshot(canned)
    await session.delete(canned)
    await session.flush()
    await record(
        session, actor=actor, action="canned.delete", entity_type="canned_response", entity_id=canned_id,
        changes=snapshot,
    )  # fmt: skip
