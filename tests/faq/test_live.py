"""The live index with the real model: answers close questions, refuses unrelated ones, off the loop."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from faq.search import ArticleText, LiveIndex
from faq.search.live import centroids
from tests.faq.encoders import RecordingEncoder

ARTICLES = [
    ArticleText(
        id="delivery-time",
        question="How long does delivery take?",
        answer="Standard delivery takes 2-4 working days.",
        alternatives=("When will my parcel arrive?", "shipping time"),
    ),
    ArticleText(
        id="card-payment",
        question="Can I pay by credit card?",
        answer="Yes: Visa, Mastercard and American Express.",
        alternatives=("do you accept visa", "card payment"),
    ),
    ArticleText(
        id="password-reset",
        question="How do I reset my password?",
        answer="Use the 'Forgot password' link on the login page.",
        alternatives=("I forgot my password", "can't log in"),
    ),
]


async def built(index: LiveIndex) -> LiveIndex:
    vectors = await index.encode(ARTICLES)
    index.publish(await index.build(None, upserts=list(zip(ARTICLES, vectors, strict=True))))
    return index


def test_centroids_are_the_normalised_mean_of_each_group():
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(6, 5)).astype(np.float32)

    result = centroids(vectors, [2, 1, 3])

    assert result.shape == (3, 5)
    assert result.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(result, axis=1), 1.0, rtol=1e-6)
    for row, group in zip(result, (vectors[0:2], vectors[2:3], vectors[3:6]), strict=True):
        mean = group.mean(axis=0)
        np.testing.assert_allclose(row, mean / np.linalg.norm(mean), rtol=1e-5, atol=1e-6)


async def test_article_vectors_are_unit_length_centroids_of_their_phrasings():
    index = LiveIndex()

    vectors = await index.encode(ARTICLES)

    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


async def test_a_close_question_is_answered_and_an_unrelated_one_is_not():
    index = await built(LiveIndex())

    close = await index.search("I forgot my login password", k=3)
    unrelated = await index.search("what is the capital of France?", k=3)

    assert close.hits[0].article.id == "password-reset"
    assert close.answered is True
    assert unrelated.answered is False
    assert [h.score for h in close.hits] == sorted((h.score for h in close.hits), reverse=True)


@pytest.mark.parametrize(("threshold", "answered"), [(0.0, True), (1.0, False)])
async def test_the_threshold_decides_what_is_answered(threshold, answered):
    index = await built(LiveIndex(threshold=threshold))

    unrelated = await index.search("what is the capital of France?", k=1)
    close = await index.search("is it possible to pay with my mastercard", k=1)

    assert close.hits[0].article.id == "card-payment"
    assert unrelated.answered is answered
    assert close.answered is answered


async def test_an_index_with_no_articles_answers_nothing():
    result = await LiveIndex().search("how long does delivery take?", k=3)

    assert result.hits == []
    assert result.answered is False


async def test_the_encoder_never_runs_on_the_event_loop_thread():
    recording = RecordingEncoder()
    index = await built(LiveIndex(encoder_loader=recording.loader))

    await index.search("when does my parcel come", k=1)

    assert recording.texts
    assert recording.queries == ["when does my parcel come"]
    assert recording.threads
    assert threading.get_ident() not in recording.threads
