"""The live search index: searches never fail while the KB changes, and vectors are stored per version."""

from __future__ import annotations

import asyncio
import threading

import httpx
import numpy as np
from sqlalchemy import select

from crm_backend.faq.indexing import article_text
from crm_backend.faq.models import FaqArticle, FaqEmbedding
from faq.search import LiveIndex, dense_phrases
from tests.crm_backend.faq.conftest import PARAPHRASES, result_ids
from tests.faq.encoders import RecordingEncoder

DIMENSION = 384


async def stored_embeddings(session) -> dict[str, FaqEmbedding]:
    rows = await session.scalars(select(FaqEmbedding).execution_options(populate_existing=True))
    return {row.article_id: row for row in rows}


def use_fresh_index(app, recording: RecordingEncoder, **kwargs) -> LiveIndex:
    """What a restart does: a new, empty live index over the same database."""
    index = LiveIndex(encoder_loader=recording.loader, threshold=app.state.faq_index.threshold, **kwargs)
    app.state.faq_index = index
    return index


async def test_searches_never_fail_while_an_import_and_an_edit_run(imported, admin_client, client, search):
    # The first search builds the index; from then on searches only read snapshots.
    await search(PARAPHRASES["delivery-time"])
    gift = {
        "id": "gift-wrapping",
        "question": "Do you offer gift wrapping?",
        "answer": "Yes, for 3 EUR per order.",
        "alternatives": ["can you wrap my present", "gift packaging"],
    }
    written = asyncio.Event()

    async def write() -> list[int]:
        try:
            imported_ = await admin_client.post("/api/faq/import", json=[gift])
            edited = await admin_client.patch(
                "/api/faq/articles/card-payment", json={"alternatives": ["do you take mastercard"]}
            )
            return [imported_.status_code, edited.status_code]
        finally:
            written.set()  # even on failure: the readers stop

    async def read() -> list[tuple[bool, httpx.Response]]:
        """Search until the writes are done, then twice more; each response with whether it began after."""
        responses = []
        after = 0
        while after < 2:
            began_after = written.is_set()
            after += began_after
            params = {"q": "could you wrap my order as a gift", "k": 5}
            responses.append((began_after, await client.get("/api/faq/search", params=params)))
        return responses

    writing = asyncio.create_task(write())
    readers = await asyncio.gather(*(read() for _ in range(6)))
    statuses = await writing
    responses = [pair for reader in readers for pair in reader]

    assert statuses == [200, 200]
    assert all(response.status_code == 200 for _, response in responses)
    assert any(not began_after for began_after, _ in responses)
    for began_after, response in responses:
        ids = result_ids(response.json())
        # Each search saw one whole snapshot: before the import (3 articles) or after it (4).
        assert len(ids) in (3, 4)
        assert len(set(ids)) == len(ids)
        if began_after:
            assert ids[0] == "gift-wrapping"


async def test_indexed_articles_store_one_vector_per_version(imported, session, faq_index):
    rows = await stored_embeddings(session)

    assert sorted(rows) == sorted(a["id"] for a in imported)
    for row in rows.values():
        assert row.article_version == 1
        assert row.model == faq_index.model
        assert row.dimension == DIMENSION
        vector = np.frombuffer(row.vector, dtype="<f4")
        assert vector.shape == (DIMENSION,)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4


async def test_a_restart_encodes_only_what_changed(imported, app, admin_client, session, search):
    before = await search(PARAPHRASES["password-reset"], k=3)
    recording = RecordingEncoder()
    use_fresh_index(app, recording)

    after_restart = await search(PARAPHRASES["password-reset"], k=3)

    assert recording.texts == []
    assert recording.queries == [PARAPHRASES["password-reset"]]
    assert result_ids(after_restart) == result_ids(before)
    np.testing.assert_allclose(
        [hit["score"] for hit in after_restart["results"]],
        [hit["score"] for hit in before["results"]],
        atol=1e-5,
    )

    edited = await admin_client.patch(
        "/api/faq/articles/password-reset", json={"alternatives": ["locked out of my account"]}
    )
    article = await session.get(FaqArticle, "password-reset", populate_existing=True)

    assert edited.json()["version"] == 2
    assert recording.texts == list(dense_phrases(article_text(article)))
    rows = await stored_embeddings(session)
    assert {article_id: row.article_version for article_id, row in rows.items()} == {
        "delivery-time": 1,
        "card-payment": 1,
        "password-reset": 2,
    }

    # And the next restart finds every vector current again.
    again = RecordingEncoder()
    use_fresh_index(app, again)
    assert result_ids(await search("locked out of my account", k=1)) == ["password-reset"]
    assert again.texts == []


async def test_vectors_of_another_model_are_encoded_again(imported, app, session, search):
    recording = RecordingEncoder()
    index = use_fresh_index(app, recording, model="another-model/1")

    body = await search(PARAPHRASES["card-payment"], k=1)

    assert result_ids(body) == ["card-payment"]
    stored = await session.scalars(select(FaqArticle).execution_options(populate_existing=True))
    expected = [text for article in stored for text in dense_phrases(article_text(article))]
    assert sorted(recording.texts) == sorted(expected)
    rows = await stored_embeddings(session)
    assert {row.model for row in rows.values()} == {index.model}


async def test_the_encoder_never_runs_on_the_event_loop_thread(app, admin_client, articles, search):
    recording = RecordingEncoder()
    use_fresh_index(app, recording)

    response = await admin_client.post("/api/faq/import", json=articles)
    await search(PARAPHRASES["card-payment"])

    assert response.status_code == 200
    assert recording.texts
    assert recording.queries
    assert recording.threads
    assert threading.get_ident() not in recording.threads
