"""The index's write lock and the database's locks, with real separate connections.

The other FAQ tests share one connection per test, so they cannot see two transactions
wait on each other; these tests commit to a private database of the same kind instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import crm_backend.models  # noqa: F401  (every table, for create_all)
from crm_backend.audit.models import AuditEntry
from crm_backend.auth.principal import SYSTEM_PRINCIPAL
from crm_backend.core.config import to_async_url
from crm_backend.core.database import Base, create_engine, create_session_factory
from crm_backend.faq import indexing, service
from crm_backend.faq.models import FaqArticle, FaqEmbedding
from crm_backend.faq.schemas import ArticleUpdate
from faq.search import ArticleText, LiveIndex
from faq.search.encoder import Vectors
from tests.databases import temporary_database
from tests.faq.encoders import RecordingEncoder

# Long enough for any healthy step here; a lock-order bug waits forever (or SQLite's 30 s).
TIMEOUT = 10


@pytest.fixture(scope="module")
async def private_database(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a private database of the test's kind (SQLite or PostgreSQL)."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with temporary_database(kind, tmp_path_factory.mktemp("locking")) as url:
        engine = create_engine(to_async_url(url))
        try:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            yield create_session_factory(engine)
        finally:
            await engine.dispose()


@pytest.fixture
async def committed(
    private_database: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """The private database holding just two committed articles."""
    async with private_database() as session, session.begin():
        for table in (FaqEmbedding, AuditEntry, FaqArticle):
            await session.execute(delete(table))
        session.add_all(
            [
                FaqArticle(id="delivery-time", question="How long does delivery take?", answer="2-4 days."),
                FaqArticle(id="card-payment", question="Can I pay by credit card?", answer="Yes."),
            ]
        )
    return private_database


@dataclass
class GatedEncoder(RecordingEncoder):
    """Holds the first article encoding until `release` is set, so a test can act meanwhile."""

    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not self.started.is_set():
            self.started.set()
            self.release.wait(TIMEOUT)
        return super().encode(texts)


def searchable(index: LiveIndex, article_id: str) -> ArticleText:
    """The version of the article that searches see now."""
    indexed = index.snapshot.get(article_id)
    assert indexed is not None, f"{article_id} is not in the index"
    return indexed.article


async def until(condition, what: str) -> None:
    for _ in range(TIMEOUT * 100):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def load(factory: async_sessionmaker[AsyncSession], index: LiveIndex) -> None:
    async with factory() as session, session.begin():
        await indexing.ensure_loaded(session, index)


async def edit(factory: async_sessionmaker[AsyncSession], index: LiveIndex) -> None:
    async with factory() as session, session.begin():
        await service.update_article(
            session,
            article_id="delivery-time",
            data=ArticleUpdate(alternatives=["when will my parcel arrive"]),
            actor=SYSTEM_PRINCIPAL,
            index=index,
        )


async def finish(*tasks: asyncio.Task[None]) -> None:
    """Wait for the tasks; a deadlock fails the test instead of hanging it."""
    done, pending = await asyncio.wait(tasks, timeout=TIMEOUT)
    for task in pending:
        task.cancel()
    assert not pending, "deadlock: the index build and the edit wait on each other"
    for task in done:
        task.result()


async def test_an_edit_during_the_first_index_build_does_not_deadlock(committed):
    # The first build (start-up, or the first search) holds the index's write lock while it
    # encodes and stores every article's vector; an admin edits an article meanwhile.
    encoder = GatedEncoder()
    index = LiveIndex(encoder_loader=encoder.loader)
    build = asyncio.create_task(load(committed, index))
    await until(encoder.started.is_set, "the build to start encoding")

    editing = asyncio.create_task(edit(committed, index))
    await asyncio.sleep(0.5)  # the edit runs as far as it can
    encoder.release.set()
    await finish(build, editing)

    assert searchable(index, "delivery-time").alternatives == ("when will my parcel arrive",)
    async with committed() as session:
        rows = {row.article_id: row.article_version for row in await session.scalars(select(FaqEmbedding))}
    assert rows == {"delivery-time": 2, "card-payment": 1}


async def test_a_writer_holding_the_database_does_not_stall_the_first_search(committed):
    # A writer has flushed (on SQLite it now holds the database's write lock) and is about
    # to stage its change, when the first search starts building the index.
    index = LiveIndex(encoder_loader=RecordingEncoder().loader)
    async with committed() as writer, writer.begin():
        article = await writer.get(FaqArticle, "delivery-time")
        assert article is not None
        article.answer = "1-3 days."
        article.version += 1
        await writer.flush()
        build = asyncio.create_task(load(committed, index))
        await asyncio.sleep(0.3)  # the search takes what it can

        await asyncio.wait_for(indexing.stage(writer, index, [article]), TIMEOUT)
    await finish(build)

    assert index.loaded
    assert searchable(index, "delivery-time").answer == "1-3 days."


async def test_an_edit_right_after_the_first_build_waits_for_its_vectors_to_commit(committed):
    # The first search built the index and stored every vector, but its request has not
    # committed yet when an admin's edit of one of those articles comes in.
    index = LiveIndex(encoder_loader=RecordingEncoder().loader)
    async with committed() as searcher, searcher.begin():
        await indexing.ensure_loaded(searcher, index)
        found = await index.search("how long does delivery take", k=1)
        editing = asyncio.create_task(edit(committed, index))
        await asyncio.sleep(0.3)
        assert not editing.done()
    await finish(editing)

    assert found.hits[0].article.id == "delivery-time"
    assert searchable(index, "delivery-time").version == 2
    async with committed() as session:
        rows = {row.article_id: row.article_version for row in await session.scalars(select(FaqEmbedding))}
    assert rows == {"delivery-time": 2, "card-payment": 1}
