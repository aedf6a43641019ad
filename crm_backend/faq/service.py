"""Business rules for FAQ articles: admins write, everyone reads, edits bump the version.

Every write also updates the search index (indexing.stage): the change is searchable as
soon as its transaction commits. `index=None` writes the database only (the demo loader);
the next start-up build picks those articles up.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.audit.service import record
from crm_backend.auth.principal import Principal
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.core.types import utcnow
from crm_backend.faq import indexing, repository
from crm_backend.faq.imports import InvalidImport
from crm_backend.faq.models import FaqArticle
from crm_backend.faq.schemas import ArticleCreate, ArticleImport, ArticleUpdate, ImportResult
from faq.search import LiveIndex, SearchResult


class ArticleNotFound(NotFound):
    error = "article_not_found"


class ArticleExists(Conflict):
    error = "article_exists"


def slugify(text: str, max_length: int = 80) -> str:
    """ "How long does shipping take?" → "how-long-does-shipping-take"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "article"


async def get_article(session: AsyncSession, article_id: str) -> FaqArticle:
    """The article, or 404."""
    article = await repository.get(session, article_id)
    if article is None:
        raise ArticleNotFound(f"No FAQ article {article_id!r}.")
    return article


async def create_article(
    session: AsyncSession, *, data: ArticleCreate, actor: Principal, index: LiveIndex | None = None
) -> FaqArticle:
    """Add an article; its id is given or derived from the question."""
    article_id = data.id or slugify(data.question)
    if await repository.get(session, article_id) is not None:
        raise ArticleExists(f"An article with id {article_id!r} already exists.")
    article = FaqArticle(
        id=article_id, version=1, is_active=True, **data.model_dump(mode="json", exclude={"id"})
    )
    session.add(article)
    await session.flush()
    await record(session, actor=actor, action="faq.create", entity_type="faq_article", entity_id=article_id)
    if index is not None:
        await indexing.stage(session, index, [article])
    return article


async def update_article(
    session: AsyncSession,
    *,
    article_id: str,
    data: ArticleUpdate,
    actor: Principal,
    index: LiveIndex | None = None,
) -> FaqArticle:
    """Edit an article; any content change bumps its version (stored embeddings go stale)."""
    article = await get_article(session, article_id)
    changes = data.model_dump(mode="json", exclude_unset=True, exclude_none=True, exclude={"is_active"})
    content_changed = False
    for field, value in changes.items():
        if getattr(article, field) != value:
            setattr(article, field, value)
            content_changed = True
    if content_changed:
        article.version += 1
    state_changed = data.is_active is not None and data.is_active != article.is_active
    if state_changed and data.is_active is not None:
        article.is_active = data.is_active
        article.retired_at = None if data.is_active else utcnow()
    await session.flush()
    await record(
        session, actor=actor, action="faq.update", entity_type="faq_article", entity_id=article_id,
        changes={"fields": sorted(changes), "is_active": article.is_active, "version": article.version},
    )  # fmt: skip
    if index is not None and (content_changed or state_changed):
        await indexing.stage(session, index, [article])
    return article


async def retire_article(
    session: AsyncSession, *, article_id: str, actor: Principal, index: LiveIndex | None = None
) -> FaqArticle:
    """Take an article out of search; it stays on record and can be restored."""
    return await update_article(
        session, article_id=article_id, data=ArticleUpdate(is_active=False), actor=actor, index=index
    )


async def upsert_articles(
    session: AsyncSession,
    *,
    articles: Sequence[ArticleImport | ArticleCreate],
    actor: Principal,
    index: LiveIndex | None = None,
) -> ImportResult:
    """Create or update many articles at once (import, demo files); all or nothing.

    An article is matched by its id (given, or derived from the question). Fields a row
    leaves out keep their value on update; retired articles stay retired.
    """
    ids = [a.id or slugify(a.question) for a in articles]
    first_row: dict[str, int] = {}
    for number, article_id in enumerate(ids, start=1):
        if article_id in first_row:
            raise InvalidImport(f"row {number}: id {article_id!r} repeats row {first_row[article_id]}.")
        first_row[article_id] = number
    existing = await repository.get_many(session, ids)
    result = ImportResult(created=[], updated=[], unchanged=[])
    changed: list[FaqArticle] = []
    for article_id, data in zip(ids, articles, strict=True):
        fields = data.model_dump(mode="json", exclude_unset=True, exclude={"id"})
        article = existing.get(article_id)
        if article is None:
            article = FaqArticle(
                **{"alternatives": [], "tags": [], "links": [], **fields},
                id=article_id, version=1, is_active=True,
            )  # fmt: skip
            session.add(article)
            result.created.append(article_id)
        elif _apply_fields(article, fields):
            article.version += 1
            result.updated.append(article_id)
        else:
            result.unchanged.append(article_id)
            continue
        changed.append(article)
    await session.flush()
    for article in changed:
        await record(
            session, actor=actor, action="faq.import", entity_type="faq_article", entity_id=article.id,
            changes={"version": article.version},
        )  # fmt: skip
    if index is not None:
        await indexing.stage(session, index, changed)
    return result


def _apply_fields(article: FaqArticle, fields: dict[str, object]) -> bool:
    changed = False
    for field, value in fields.items():
        if getattr(article, field) != value:
            setattr(article, field, value)
            changed = True
    return changed


async def export_articles(session: AsyncSession) -> list[ArticleImport]:
    """Every active article, in the import format."""
    # Built, not validated: what is stored is exported as it is.
    return [
        ArticleImport.model_construct(
            id=a.id, question=a.question, answer=a.answer, alternatives=a.alternatives, tags=a.tags
        )
        for a in await repository.active_articles(session)
    ]


async def search(session: AsyncSession, *, index: LiveIndex, query: str, k: int) -> SearchResult:
    """The k best articles for a customer's question, and whether the best one answers it."""
    await indexing.ensure_loaded(session, index)
    return await index.search(query, k)
