"""An immutable search index over FAQ articles: dense vectors, word BM25 and trigram BM25.

A `Snapshot` is never changed after it is built: a change builds a new one, and the live
index swaps its reference (see live.py), so a search always runs on one consistent snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt

from faq.search.encoder import Encoder, Vectors
from faq.search.text import ArticleText, gram_text, trigrams, word_text, words

Scores = npt.NDArray[np.float32]

# Fusion weights, chosen on faq/eval/questions.csv and checked on the other shop's KB
# (bench/faq_eval.py): hybrid = DENSE * cosine + (1 - DENSE) * lexical, where lexical is the
# mean of word BM25 and trigram BM25, each divided by its best score for the query.
DENSE_WEIGHT = 0.75


class Method(StrEnum):
    """How results are ranked; the service ships HYBRID, the others are baselines."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"


@dataclass(frozen=True, slots=True, eq=False)
class IndexedArticle:
    """An article with its vector and lexical tokens, computed once per version."""

    article: ArticleText
    vector: Vectors
    words: tuple[str, ...]
    grams: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Query:
    """A search text prepared for every signal."""

    text: str
    vector: Vectors
    words: tuple[str, ...]
    grams: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    """One result: the article and its score (higher is better)."""

    article: ArticleText
    score: float


def index_articles(articles: Sequence[ArticleText], vectors: Iterable[Vectors]) -> list[IndexedArticle]:
    """Pair articles with their (stored or fresh) vectors and tokenise them."""
    word_tokens = words([word_text(a) for a in articles])
    return [
        IndexedArticle(article=a, vector=_readonly(v), words=w, grams=trigrams(gram_text(a)))
        for a, v, w in zip(articles, vectors, word_tokens, strict=True)
    ]


def prepare_query(text: str, encoder: Encoder) -> Query:
    """Encode and tokenise a search text (runs the model: keep it off the event loop)."""
    return Query(text=text, vector=encoder.encode_query(text), words=words([text])[0], grams=trigrams(text))


class _Bm25:
    """bm25s over fixed documents; scores every document for a query."""

    def __init__(self, documents: Sequence[tuple[str, ...]]) -> None:
        self.size = len(documents)
        self._retriever: Any = None
        if any(documents):
            self._retriever = bm25s.BM25()
            self._retriever.index([list(d) for d in documents], show_progress=False)

    def scores(self, tokens: Iterable[str]) -> Scores:
        if self._retriever is None:
            return np.zeros(self.size, dtype=np.float32)
        # Each distinct query token counts once: "ship ship ship" is no better a match.
        ids = self._retriever.get_tokens_ids(list(dict.fromkeys(tokens)))
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores_from_ids(ids), dtype=np.float32)


class Snapshot:
    """The searchable state of the KB at one moment; immutable."""

    def __init__(self, articles: Iterable[IndexedArticle], dimension: int = 0) -> None:
        self.articles: tuple[IndexedArticle, ...] = tuple(sorted(articles, key=lambda a: a.article.id))
        self._positions = {a.article.id: i for i, a in enumerate(self.articles)}
        if self.articles:
            self.matrix = _readonly(np.vstack([a.vector for a in self.articles]).astype(np.float32))
        else:
            self.matrix = _readonly(np.zeros((0, dimension), dtype=np.float32))
        self._words = _Bm25([a.words for a in self.articles])
        self._grams = _Bm25([a.grams for a in self.articles])

    def __len__(self) -> int:
        return len(self.articles)

    def get(self, article_id: str) -> IndexedArticle | None:
        """The indexed article with this id, if it is searchable."""
        position = self._positions.get(article_id)
        return None if position is None else self.articles[position]

    def with_changes(
        self, *, upserts: Iterable[IndexedArticle] = (), removed: Iterable[str] = ()
    ) -> Snapshot:
        """A new snapshot with these articles added or replaced and these ids gone."""
        by_id = {a.article.id: a for a in self.articles}
        for article_id in removed:
            by_id.pop(article_id, None)
        for indexed in upserts:
            by_id[indexed.article.id] = indexed
        return Snapshot(by_id.values(), dimension=self.matrix.shape[1])

    def scores(self, query: Query, method: Method = Method.HYBRID) -> Scores:
        """The score of every article for the query, in snapshot order."""
        if not self.articles:
            return np.zeros(0, dtype=np.float32)
        if method is Method.BM25:
            return self._words.scores(query.words)
        dense: Scores = self.matrix @ query.vector
        if method is Method.DENSE:
            return dense
        lexical = 0.5 * _by_best(self._words.scores(query.words)) + 0.5 * _by_best(
            self._grams.scores(query.grams)
        )
        return np.asarray(DENSE_WEIGHT * dense + (1.0 - DENSE_WEIGHT) * lexical, dtype=np.float32)

    def search(self, query: Query, k: int, method: Method = Method.HYBRID) -> list[Hit]:
        """The k best articles, best first."""
        scores = self.scores(query, method)
        if k <= 0 or not len(scores):
            return []
        if k < len(scores):
            top = np.argpartition(-scores, k - 1)[:k]
        else:
            top = np.arange(len(scores))
        # Ties broken by id (snapshot order), so results are stable.
        ordered = top[np.lexsort((top, -scores[top]))]
        return [Hit(article=self.articles[i].article, score=float(scores[i])) for i in ordered]


def _by_best(scores: Scores) -> Scores:
    best = float(scores.max(initial=0.0))
    return scores / best if best > 0 else scores


def _readonly(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.flags.writeable = False
    return array
