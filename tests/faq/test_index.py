"""Snapshots: immutable, changed by building a new one, searched in a stable order."""

from __future__ import annotations

import numpy as np
import pytest

from faq.search import ArticleText, IndexedArticle, Method, Query, Snapshot, index_articles
from faq.search.text import trigrams, words

DIMENSION = 4


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def indexed(article_id: str, question: str, vector: np.ndarray, version: int = 1) -> IndexedArticle:
    article = ArticleText(id=article_id, question=question, answer=f"About {question}", version=version)
    return index_articles([article], [vector])[0]


def query(text: str, vector: np.ndarray) -> Query:
    return Query(text=text, vector=vector, words=words([text])[0], grams=trigrams(text))


@pytest.fixture
def snapshot() -> Snapshot:
    return Snapshot(
        [
            indexed("shipping", "How long does delivery take?", unit(1, 0, 0, 0)),
            indexed("payment", "Can I pay by card?", unit(0, 1, 0, 0)),
            indexed("password", "How do I reset my password?", unit(0, 0, 1, 0)),
        ]
    )


def ids(hits) -> list[str]:
    return [hit.article.id for hit in hits]


def test_with_changes_replaces_and_removes_without_touching_the_original(snapshot):
    edited = indexed("payment", "Which cards do you accept?", unit(0, 1, 1, 0), version=2)
    added = indexed("returns", "How do I return an item?", unit(0, 0, 0, 1))

    changed = snapshot.with_changes(upserts=[edited, added], removed=["password", "never-indexed"])

    assert sorted(a.article.id for a in changed.articles) == ["payment", "returns", "shipping"]
    assert changed.get("payment") is edited
    assert changed.get("password") is None
    assert changed.matrix.shape == (3, DIMENSION)
    assert len(snapshot) == 3
    assert snapshot.get("payment").article.version == 1
    assert snapshot.get("password") is not None
    assert snapshot.get("returns") is None
    assert ids(snapshot.search(query("reset my password", unit(0, 0, 1, 0)), k=1)) == ["password"]
    assert "password" not in ids(changed.search(query("reset my password", unit(0, 0, 1, 0)), k=3))


@pytest.mark.parametrize("method", list(Method))
def test_searches_see_the_edited_version(snapshot, method):
    edited = indexed("payment", "Do you ship to Norway?", unit(0, 0, 0, 1), version=2)
    norway = query("ship to Norway", unit(0, 0, 0, 1))

    changed = snapshot.with_changes(upserts=[edited])

    best = changed.search(norway, k=1, method=method)[0]
    assert (best.article.id, best.article.version) == ("payment", 2)
    assert best.score > 0
    assert snapshot.search(norway, k=1, method=method)[0].score < best.score


def test_the_matrix_is_read_only(snapshot):
    with pytest.raises(ValueError, match="read-only"):
        snapshot.matrix[0, 0] = 0.5


@pytest.mark.parametrize("method", list(Method))
def test_an_empty_snapshot_finds_nothing(method):
    empty = Snapshot(())

    assert empty.search(query("how long does delivery take", unit(1, 0, 0, 0)), k=3, method=method) == []
    assert len(empty.with_changes(removed=["anything"])) == 0


@pytest.mark.parametrize("method", list(Method))
def test_results_are_best_first_and_k_is_respected(snapshot, method):
    text = "how long does delivery take"
    hits = snapshot.search(query(text, unit(0.9, 0.3, 0.1, 0)), k=2, method=method)

    assert len(hits) == 2
    assert hits[0].article.id == "shipping"
    assert hits[0].score >= hits[1].score
    assert snapshot.search(query(text, unit(1, 0, 0, 0)), k=10, method=method)[0].article.id == "shipping"
    assert len(snapshot.search(query(text, unit(1, 0, 0, 0)), k=10, method=method)) == 3
    assert snapshot.search(query(text, unit(1, 0, 0, 0)), k=0, method=method) == []


@pytest.mark.parametrize("method", list(Method))
def test_ties_are_broken_by_id_whatever_the_insertion_order(method):
    same = unit(1, 1, 0, 0)
    twins = [indexed(article_id, "How long does delivery take?", same) for article_id in ("c", "a", "d", "b")]
    tie = query("delivery take", unit(1, 0, 0, 0))

    forward = Snapshot(twins)
    backward = Snapshot(reversed(twins))

    assert ids(forward.search(tie, k=4, method=method)) == ["a", "b", "c", "d"]
    assert ids(backward.search(tie, k=4, method=method)) == ["a", "b", "c", "d"]
    # The partial selection (k < size) keeps the same order.
    assert ids(forward.search(tie, k=2, method=method)) == ["a", "b"]
    assert len({hit.score for hit in forward.search(tie, k=4, method=method)}) == 1
