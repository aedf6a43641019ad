"""Keeps the in-memory FAQ search index in step with the database.

Vectors are stored per article version (faq_embeddings), so a restart with an unchanged KB
encodes nothing. A write builds the next snapshot inside its transaction and publishes it
when the transaction commits: readers never see uncommitted articles, and the write's HTTP
response is only sent after the commit, so the article is searchable when the call returns.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from crm_backend.faq import repository
from crm_backend.faq.models import FaqArticle, FaqEmbedding
from faq.search import ArticleText, LiveIndex, Snapshot
from faq.search.encoder import Vectors

logger = logging.getLogger(__name__)

_PENDING = "faq_index_pending"


def article_text(article: FaqArticle) -> ArticleText:
    """What the search engine needs of an article row."""
    return ArticleText(
        id=article.id,
        question=article.question,
        answer=article.answer,
        alternatives=tuple(article.alternatives or ()),
        version=article.version,
    )


def _is_current(stored: FaqEmbedding | None, article: FaqArticle, model: str) -> bool:
    return stored is not None and stored.article_version == article.version and stored.model == model


async def vectors_for(
    session: AsyncSession, index: LiveIndex, articles: Sequence[FaqArticle]
) -> list[Vectors]:
    """Each article's vector: the stored one if current, else encoded now and stored."""
    stored = await repository.embeddings(session, [a.id for a in articles])
    stale = [a for a in articles if not _is_current(stored.get(a.id), a, index.model)]
    if stale:
        logger.info("faq search: encoding %d article(s)", len(stale))
        fresh = await index.encode([article_text(a) for a in stale])
        for article, vector in zip(stale, fresh, strict=True):
            row = stored.get(article.id)
            if row is None:
                row = FaqEmbedding(article_id=article.id)
                session.add(row)
                stored[article.id] = row
            row.article_version = article.version
            row.model = index.model
            row.dimension = int(vector.shape[0])
            row.vector = vector.astype("<f4").tobytes()
        await session.flush()
    return [np.frombuffer(stored[a.id].vector, dtype="<f4") for a in articles]


async def _snapshot_from_database(session: AsyncSession, index: LiveIndex) -> Snapshot:
    articles = await repository.active_articles(session)
    vectors = await vectors_for(session, index, articles)
    return await index.build(
        None, upserts=[(article_text(a), v) for a, v in zip(articles, vectors, strict=True)]
    )


async def ensure_loaded(session: AsyncSession, index: LiveIndex) -> None:
    """Build the index from the database unless it is built already (first search, tests)."""
    if index.loaded or _PENDING in session.info:
        return
    # Begin the transaction before taking the lock, as writers do (they flush, then stage):
    # on SQLite, BEGIN takes the database's write lock, and holding the index's lock while
    # waiting for a writer that waits for it would stall both until SQLite's timeout.
    await session.connection()
    await index.write_lock.acquire()
    try:
        if index.loaded:
            index.write_lock.release()
            return
        snapshot = await _snapshot_from_database(session, index)
        # Searchable at once: every article in it is committed. But the vectors just stored
        # are not until this transaction ends, so like a writer it keeps the lock till then:
        # the next writer would otherwise store the same article's vector again (a duplicate
        # key on PostgreSQL).
        index.publish(snapshot)
        _publish_on_commit(session, _Pending(index=index, snapshot=snapshot, root=_root(session)))
    except BaseException:
        index.write_lock.release()
        raise


async def build_at_startup(session_factory: async_sessionmaker[AsyncSession], index: LiveIndex) -> None:
    """The start-up build: every active article, encoding only missing or stale vectors."""
    try:
        async with session_factory() as session, session.begin():
            await ensure_loaded(session, index)
        logger.info("faq search: index ready with %d article(s)", len(index.snapshot))
    except Exception:
        # Searches build the index themselves when this fails; the CRM still starts.
        logger.exception("faq search: start-up build failed")


@dataclass(eq=False)
class _Pending:
    """The snapshot a transaction will publish, and the lock it holds until it ends."""

    index: LiveIndex
    snapshot: Snapshot
    root: SessionTransaction


async def stage(session: AsyncSession, index: LiveIndex, articles: Sequence[FaqArticle]) -> None:
    """Prepare the index after these articles changed; it goes live when the session commits.

    Call after the changes are flushed. Writers hold the index's write lock from here to the
    end of their transaction, so each builds on the previous writer's published snapshot.
    """
    if not articles:
        return
    active = [a for a in articles if a.is_active]
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is None:
        await index.write_lock.acquire()
        try:
            # Vectors are stored under the lock only: a writer waiting for it must not hold a
            # faq_embeddings row that the holder (the first build, say) is about to write.
            vectors = await vectors_for(session, index, active)
            if not index.loaded:
                # This transaction's view already holds the changes.
                snapshot = await _snapshot_from_database(session, index)
            else:
                snapshot = await _apply(index, index.snapshot, articles, active, vectors)
            pending = _Pending(index=index, snapshot=snapshot, root=_root(session))
            _publish_on_commit(session, pending)
        except BaseException:
            index.write_lock.release()
            raise
    else:
        vectors = await vectors_for(session, index, active)
        pending.snapshot = await _apply(index, pending.snapshot, articles, active, vectors)


async def _apply(
    index: LiveIndex,
    base: Snapshot,
    articles: Sequence[FaqArticle],
    active: Sequence[FaqArticle],
    vectors: Sequence[Vectors],
) -> Snapshot:
    removed = [a.id for a in articles if not a.is_active]
    upserts = [(article_text(a), v) for a, v in zip(active, vectors, strict=True)]
    return await index.build(base, upserts=upserts, removed=removed)


def _root(session: AsyncSession) -> SessionTransaction:
    root = session.sync_session.get_transaction()
    if root is None:  # pragma: no cover - stage() runs after a flush, inside a transaction
        raise RuntimeError("stage() needs an open transaction")
    return root


def _publish_on_commit(session: AsyncSession, pending: _Pending) -> None:
    session.info[_PENDING] = pending
    ended = False

    def after_commit(committed: Session) -> None:
        # Savepoint releases fire this too; only the outermost commit makes the change real.
        if not ended and committed.get_nested_transaction() is None:
            pending.index.publish(pending.snapshot)

    def after_transaction_end(_session: Session, transaction: SessionTransaction) -> None:
        nonlocal ended
        if ended or transaction is not pending.root:
            return
        # Committed or rolled back: either way the next writer may go.
        ended = True
        session.info.pop(_PENDING, None)
        pending.index.write_lock.release()

    event.listen(session.sync_session, "after_commit", after_commit)
    event.listen(session.sync_session, "after_transaction_end", after_transaction_end)
