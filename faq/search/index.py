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
from faq.search.text import (
    ArticleText,
    Vocabulary,
    gram_text,
    spelling_words,
    trigrams,
    word_text,
    words,
)

Scores = npt.NDArray[np.float32]

# hybrid = DENSE_WEIGHT * cosine + (1 - DENSE_WEIGHT) * lexical, where lexical mixes word BM25
# (WORD_SHARE) and trigram BM25, each divided by its best score for the query. Chosen with
# `make eval-faq` on faq/eval/questions.csv, checked on the other shop's KB; hybrid top-1
# (ours / other shop), queries respelled:
#   DENSE_WEIGHT 0.70 / 0.75 / 0.80 / 0.85 / 0.90: 0.899 / 0.903 / 0.907 / 0.903 / 0.899 (ours),
#   0.946 / 0.946 / 0.964 / 0.955 / 0.938 (other); a flat optimum, so 0.80.
#   WORD_SHARE 0.25 / 0.5 / 0.75 / 1.0 at 0.80: 0.895 / 0.907 / 0.895 / 0.891 (ours), 0.964 for
#   all four (other): an even split.
#   Before respelling, 0.75 / 0.5 (the first guess) gave 0.891 and the best of the grid 0.895.
# Tried and dropped: lexical scores squashed by a fixed floor instead of the best score (for a
# threshold that means more), z-scores per signal, reciprocal rank fusion (0.84-0.86: ranks throw
# away how much better the first hit is), the max over an article's phrasings mixed into the
# centroid, and a multi-sentence query's best sentence: none beat 0.895 before respelling.
DENSE_WEIGHT = 0.80
WORD_SHARE = 0.5


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
    spelling: frozenset[str]


class Query:
    """A search text; each signal's form of it is computed on first use.

    Lazy because the snapshot respells the text first (see `Snapshot.respelled`), and because
    ranking by BM25 alone needs no encoding, the costly part. A query built with its vector
    instead of an encoder is searched exactly as given: it cannot be re-encoded.
    """

    def __init__(
        self,
        text: str,
        encoder: Encoder | None = None,
        *,
        vector: Vectors | None = None,
        words: tuple[str, ...] | None = None,
        grams: tuple[str, ...] | None = None,
    ) -> None:
        if encoder is None and vector is None:
            raise ValueError("a query needs an encoder or its vector")
        self.text = text
        self.encoder = encoder
        self._vector = vector
        self._words = words
        self._grams = grams

    @property
    def vector(self) -> Vectors:
        """The encoder's vector (runs the model on first use: keep it off the event loop)."""
        if self._vector is None:
            assert self.encoder is not None  # __init__ requires one of the two
            self._vector = self.encoder.encode_query(self.text)
        return self._vector

    @property
    def words(self) -> tuple[str, ...]:
        """Word tokens, as articles are tokenised."""
        if self._words is None:
            self._words = words([self.text])[0]
        return self._words

    @property
    def grams(self) -> tuple[str, ...]:
        """Character trigrams."""
        if self._grams is None:
            self._grams = trigrams(self.text)
        return self._grams

    def with_text(self, text: str) -> Query:
        """This query with another text; itself when the text is the same or it cannot be re-encoded."""
        if text == self.text or self.encoder is None:
            return self
        return Query(text, self.encoder)


@dataclass(frozen=True, slots=True)
class Hit:
    """One result: the article and its score (higher is better)."""

    article: ArticleText
    score: float


def index_articles(articles: Sequence[ArticleText], vectors: Iterable[Vectors]) -> list[IndexedArticle]:
    """Pair articles with their (stored or fresh) vectors and tokenise them."""
    word_tokens = words([word_text(a) for a in articles])
    return [
        IndexedArticle(
            article=a, vector=_readonly(v), words=w, grams=trigrams(gram_text(a)), spelling=spelling_words(a)
        )
        for a, v, w in zip(articles, vectors, word_tokens, strict=True)
    ]


def prepare_query(text: str, encoder: Encoder) -> Query:
    """A search text for `Snapshot.search`, which encodes it (keep that off the event loop)."""
    return Query(text, encoder)


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
        self.vocabulary = Vocabulary(a.spelling for a in self.articles)

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

    def respelled(self, query: Query) -> Query:
        """The query with its misspelt words corrected to words of this KB."""
        return query.with_text(self.vocabulary.respell(query.text))

    def scores(self, query: Query, method: Method = Method.HYBRID) -> Scores:
        """The score of every article for the (respelled) query, in snapshot order."""
        if not self.articles:
            return np.zeros(0, dtype=np.float32)
        query = self.respelled(query)
        if method is Method.BM25:
            return self._words.scores(query.words)
        # einsum, not `matrix @ vector`: OpenBLAS runs a large product on two threads that then
        # spin for a while, taking the core the next query's encoding needs. At 100k articles
        # the scan costs about the same either way (memory-bound, 10-15 ms), but the encoding
        # after it slowed down ~2x: hybrid p95 85 → 44 ms in `make eval-faq`.
        dense: Scores = np.einsum("ij,j->i", self.matrix, query.vector)
        if method is Method.DENSE:
            return dense
        word = _by_best(self._words.scores(query.words))
        gram = _by_best(self._grams.scores(query.grams))
        lexical = WORD_SHARE * word + (1.0 - WORD_SHARE) * gram
        return np.asarray(DENSE_WEIGHT * dense + (1.0 - DENSE_WEIGHT) * lexical, dtype=np.float32)

    def search(self, query: Query, k: int, method: Method = Method.HYBRID) -> list[Hit]:
        """The k best articles, best first."""
        scores = self.scores(query, method)
        if k <= 0 or not len(scores):
            return []
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        # Ties broken by id (snapshot order), so results are stable.
        ordered = top[np.lexsort((top, -scores[top]))]
        return [Hit(article=self.articles[i].article, score=float(scores[i])) for i in ordered]


def _by_best(scores: Scores) -> Scores:
    best = float(scores.max(initial=0.0))
    return scores / best if best > 0 else scores


def _readonly(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.flags.writeable = False
    return array
