"""Business rules for FAQ articles: admins write, everyone reads, edits bump the version."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.audit.service import record
from crm_backend.auth.principal import Principal
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.core.types import utcnow
from crm_backend.faq import repository
from crm_backend.faq.models import FaqArticle
from crm_backend.faq.schemas import ArticleCreate, ArticleUpdate


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


async def create_article(session: AsyncSession, *, data: ArticleCreate, actor: Principal) -> FaqArticle:
    """Add an article; its id is given or derived from the question."""
    article_id = data.id or slugify(data.question)
    if await repository.get(session, article_id) is not None:
        raise ArticleExists(f"An article with id {article_id!r} already exists.")
    article = FaqArticle(id=article_id, **data.model_dump(mode="json", exclude={"id"}))
    session.add(article)
    await session.flush()
    await record(session, actor=actor, action="faq.create", entity_type="faq_article", entity_id=article_id)
    return article


async def update_article(
    session: AsyncSession, *, article_id: str, data: ArticleUpdate, actor: Principal
) -> FaqArticle:
    """Edit an article; any content change bumps its version (stored embeddings go stale)."""
    article = await get_article(session, article_id)
    changes = data.model_dump(mode="json", exclude_unset=True, exclude={"is_active"})
    content_changed = False
    for field, value in changes.items():
        if getattr(article, field) != value:
            setattr(article, field, value)
            content_changed = True
    if content_changed:
        article.version += 1
    if data.is_active is not None and data.is_active != article.is_active:
        article.is_active = data.is_active
        article.retired_at = None if data.is_active else utcnow()
    await session.flush()
    await record(
        session, actor=actor, action="faq.update", entity_type="faq_article", entity_id=article_id,
        changes={"fields": sorted(changes), "is_active": article.is_active, "version": article.version},
    )  # fmt: skip
    return article


async def retire_article(session: AsyncSession, *, article_id: str, actor: Principal) -> FaqArticle:
    """Take an article out of search; it stays on record and can be restored."""
    return await update_article(
        session, article_id=article_id, data=ArticleUpdate(is_active=False), actor=actor
    )
