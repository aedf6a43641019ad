"""All SQL about FAQ articles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.faq.models import FaqArticle, FaqEmbedding


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


# Bound parameters per IN (...) list: well under SQLite's and asyncpg's limits.
_IN_CHUNK = 500


async def active_articles(session: AsyncSession) -> list[FaqArticle]:
    """Every searchable article, by id."""
    return list((await session.scalars(filtered(active=True, q=None))).all())


async def get_many(session: AsyncSession, article_ids: Sequence[str]) -> dict[str, FaqArticle]:
    """The articles with these ids that exist, by id."""
    found: dict[str, FaqArticle] = {}
    for start in range(0, len(article_ids), _IN_CHUNK):
        chunk = article_ids[start : start + _IN_CHUNK]
        rows = await session.scalars(select(FaqArticle).where(FaqArticle.id.in_(chunk)))
        found.update((a.id, a) for a in rows)
    return found


async def embeddings(session: AsyncSession, article_ids: Sequence[str]) -> dict[str, FaqEmbedding]:
    """The stored embeddings of these articles, by article id (whatever their version)."""
    found: dict[str, FaqEmbedding] = {}
    for start in range(0, len(article_ids), _IN_CHUNK):
        chunk = article_ids[start : start + _IN_CHUNK]
        rows = await session.scalars(select(FaqEmbedding).where(FaqEmbedding.article_id.in_(chunk)))
        found.update((e.article_id, e) for e in rows)
    return found
