"""The demo loader fills an empty FAQ table from faq/articles; the start-up build makes it searchable."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_backend.demo.seed import seed_faq_articles
from crm_backend.faq.indexing import build_at_startup
from crm_backend.faq.models import FaqArticle, FaqEmbedding
from faq.content import load_articles
from tests.crm_backend.faq.conftest import result_ids

# Customer wordings that copy no article's question or alternatives.
PARAPHRASES = {
    "How many days until my order shows up?": "shipping-times",
    "I no longer know the password for my login": "reset-password",
    "How do I stop getting your promotional emails?": "newsletter-unsubscribe",
}


async def count(session, model):
    return await session.scalar(select(func.count()).select_from(model))


async def test_the_seed_loads_every_article_once(session):
    files = load_articles()

    first = await seed_faq_articles(session)
    second = await seed_faq_articles(session)

    assert first == len(files) >= 60
    assert second == 0
    assert await count(session, FaqArticle) == len(files)
    stored = await session.get(FaqArticle, files[0]["id"])
    assert stored is not None
    assert (stored.question, stored.version, stored.is_active) == (files[0]["question"], 1, True)
    assert stored.alternatives == files[0]["alternatives"]
    # The loader writes the database only: the start-up build encodes.
    assert await count(session, FaqEmbedding) == 0


async def test_the_seed_leaves_a_table_with_articles_alone(admin_client, session, imported):
    assert await seed_faq_articles(session) == 0
    assert await count(session, FaqArticle) == len(imported)


async def test_seeded_articles_are_found_by_paraphrase_after_the_start_up_build(
    session, session_factory, faq_index, search
):
    loaded = await seed_faq_articles(session)
    await session.flush()

    await build_at_startup(session_factory, faq_index)

    assert faq_index.loaded
    assert len(faq_index.snapshot) == loaded
    assert await count(session, FaqEmbedding) == loaded
    for paraphrase, article_id in PARAPHRASES.items():
        body = await search(paraphrase)
        assert result_ids(body)[0] == article_id, (paraphrase, body)
        assert body["answered"] is True
