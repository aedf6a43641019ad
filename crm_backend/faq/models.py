"""FAQ articles and their stored embeddings. Content and search belong to faq/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.database import Base
from crm_backend.core.types import UTCDateTime, utcnow


class FaqArticle(Base):
    """A question with its answer, alternative phrasings, tags and links."""

    __tablename__ = "faq_articles"

    # A readable, stable id ("shipping-times") so files, imports and the bot agree.
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # Bumped on every edit, so stored embeddings know when they are stale.
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FaqEmbedding(Base):
    """The search vector of one article version, so an unchanged KB is never re-encoded."""

    __tablename__ = "faq_embeddings"

    article_id: Mapped[str] = mapped_column(
        String(80), ForeignKey("faq_articles.id", ondelete="CASCADE"), primary_key=True
    )
    # Stale when the article's version moved on, or when the model (or what of an article
    # it embeds) changed: see faq.search.encoder.
    article_version: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(100))
    dimension: Mapped[int] = mapped_column(Integer)
    # Little-endian float32, L2-normalised.
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
