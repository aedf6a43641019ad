"""All SQL about FAQ articles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.faq.models import FaqArticle


async def get(session: AsyncSession, article_id: str) -> FaqArticle | None:
    """The article with this id, active or retired."""
    return await session.get(FaqArticle, article_id)


def filtered(*, active: bool | None, q: str | None) -> Select[Any]:
    """Articles by id, narrowed by state and a text match on question or answer."""
    statement = select(FaqArticle).order_by(FaqArticle.id)
    if active is not None:
        statement = statement.where(FaqArticle.is_active == active)
    if q and q.strip():
        text = q.strip().lower()
        statement = statement.where(
            or_(
                func.lower(FaqArticle.question).contains(text, autoescape=True),
                func.lower(FaqArticle.answer).contains(text, autoescape=True),
            )
        )
    return statement


def has_tag(article: FaqArticle, tag: str) -> bool:
    """Whether the article carries `tag` (case-insensitive)."""
    return tag.strip().lower() in article.tags
