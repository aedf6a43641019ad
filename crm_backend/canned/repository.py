"""All SQL about canned responses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.canned.models import CannedResponse
from crm_backend.core.filters import where_equal


async def get(session: AsyncSession, canned_id: int) -> CannedResponse | None:
    """The canned response with this id."""
    return await session.get(CannedResponse, canned_id)


async def get_by_shortcut(session: AsyncSession, shortcut: str) -> CannedResponse | None:
    """The canned response with this (lower-cased) shortcut."""
    return await session.scalar(select(CannedResponse).where(CannedResponse.shortcut == shortcut))


def filtered(*, category: str | None, is_active: bool | None, q: str | None) -> Select[Any]:
    """Canned responses by category and shortcut, narrowed by the filters given."""
    statement = select(CannedResponse).order_by(CannedResponse.category, CannedResponse.shortcut)
    statement = where_equal(
        statement, (CannedResponse.category, category), (CannedResponse.is_active, is_active)
    )
    if q and q.strip():
        text = q.strip().lower()
        statement = statement.where(
            or_(
                func.lower(CannedResponse.shortcut).contains(text, autoescape=True),
                func.lower(CannedResponse.title).contains(text, autoescape=True),
                func.lower(CannedResponse.text).contains(text, autoescape=True),
            )
        )
    return statement
