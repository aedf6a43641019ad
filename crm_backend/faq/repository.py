"""All SQL about FAQ articles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

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
_Row = TypeVar("_Row", FaqArticle, FaqEmbedding)


async def active_articles(session: AsyncSession) -> list[FaqArticle]:
    """Every searchable article, by id."""
    return list((await session.scalars(filtered(active=True, q=None))).all())


async def _by_ids(session: AsyncSession, entity: type[_Row], key: Any, ids: Sequence[str]) -> list[_Row]:
    """Rows whose `key` column is in `ids`, queried in chunks of bound parameters."""
    rows: list[_Row] = []
    for start in range(0, len(ids), _IN_CHUNK):
        rows.extend(await session.scalars(select(entity).where(key.in_(ids[start : start + _IN_CHUNK]))))
    return rows


async def get_many(session: AsyncSession, article_ids: Sequence[str]) -> dict[str, FaqArticle]:
    """The articles with these ids that exist, by id."""
    return {a.id: a for a in await _by_ids(session, FaqArticle, FaqArticle.id, article_ids)}


async def embeddings(session: AsyncSession, article_ids: Sequence[str]) -> dict[str, FaqEmbedding]:
    """The stored embeddings of these articles, by article id (whatever their version)."""
    rows = await _by_ids(session, FaqEmbedding, FaqEmbedding.article_id, article_ids)
    return {e.article_id: e for e in rows}
