"""The live index: the current snapshot, swapped whole when the KB changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio.to_thread
import numpy as np

from faq.search.encoder import MODEL_NAME, Encoder, Vectors, load_encoder
from faq.search.index import Hit, IndexedArticle, Method, Snapshot, index_articles, prepare_query
from faq.search.text import DENSE_TEXT_VERSION, ArticleText, dense_phrases

# Names the stored vectors: another model, or another choice of what is embedded, makes
# them stale. Moving from torch to onnxruntime (fp32, the same weights and pipeline) kept the
# name on purpose: its vectors differ from torch's by at most 2.4e-7 per component (cosine
# ≥ 0.9999995 on the KB's 379 phrasings), the same as torch's own batch-vs-single-text
# difference, so vectors stored by the torch encoder stay valid and nothing is re-encoded.
# A lossy variant (int8, fp16) would need a new name here. tests/faq/test_encoder.py holds it.
EMBEDDING_MODEL = f"{MODEL_NAME}/{DENSE_TEXT_VERSION}"
# Articles per worker-thread call when encoding, so a shutdown never waits for a whole KB.
ENCODE_CHUNK = 256

# The best hybrid score must reach this for a search to count as answered. Calibrated by
# `make eval-faq` (bench/faq_eval.py) on faq/eval/questions.csv: of the thresholds that reject
# at least 85% of the unanswerable questions, the one with the best F1 of answered precision
# and answerable recall (see docs/benchmarks.md).
ANSWER_THRESHOLD = 0.63


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The best hits, best first, and whether the best one is confident enough to answer."""

    hits: list[Hit]
    answered: bool


class LiveIndex:
    """Holds the current `Snapshot`; writers build a new one and swap the reference.

    Searches never wait for writers and never see a half-built index: they read the
    reference once and search that snapshot. Writers serialise on `write_lock`.
    """

    def __init__(
        self,
        encoder_loader: Callable[[], Encoder] = load_encoder,
        *,
        model: str = EMBEDDING_MODEL,
        threshold: float = ANSWER_THRESHOLD,
    ) -> None:
        self._encoder_loader = encoder_loader
        self.model = model
        self._snapshot = Snapshot(())
        self.threshold = threshold
        self.loaded = False
        self.write_lock = asyncio.Lock()

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot searches run on now."""
        return self._snapshot

    def publish(self, snapshot: Snapshot) -> None:
        """Make `snapshot` the one searched from now on (an atomic reference swap)."""
        self._snapshot = snapshot
        self.loaded = True

    def encoder(self) -> Encoder:
        """The encoder, loaded on first use (blocking: call it from a worker thread)."""
        return self._encoder_loader()

    async def encode(self, articles: Sequence[ArticleText]) -> Vectors:
        """Embed articles in a worker thread: each one is the centroid of its phrasings."""
        phrases = [dense_phrases(a) for a in articles]
        texts = [text for group in phrases for text in group]
        chunks = [texts[i : i + ENCODE_CHUNK] for i in range(0, len(texts), ENCODE_CHUNK)]
        if not chunks:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.vstack([await anyio.to_thread.run_sync(self._encode, chunk) for chunk in chunks])
        return centroids(vectors, [len(group) for group in phrases])

    def _encode(self, texts: Sequence[str]) -> Vectors:
        return self.encoder().encode(texts)

    async def build(
        self,
        base: Snapshot | None,
        *,
        upserts: Sequence[tuple[ArticleText, Vectors]] = (),
        removed: Sequence[str] = (),
    ) -> Snapshot:
        """A new snapshot: `base` (or an empty one) with these changes, built in a worker thread."""

        def build() -> Snapshot:
            indexed: list[IndexedArticle] = []
            if upserts:
                articles, vectors = zip(*upserts, strict=True)
                indexed = index_articles(articles, vectors)
            if base is None:
                return Snapshot(indexed)
            return base.with_changes(upserts=indexed, removed=removed)

        return await anyio.to_thread.run_sync(build)

    async def search(self, text: str, k: int, method: Method = Method.HYBRID) -> SearchResult:
        """The k best articles for `text`; the encoder runs in a worker thread."""
        snapshot = self._snapshot

        def run() -> list[Hit]:
            return snapshot.search(prepare_query(text, self.encoder()), k, method)

        hits = await anyio.to_thread.run_sync(run)
        return SearchResult(hits=hits, answered=bool(hits) and hits[0].score >= self.threshold)


def centroids(vectors: Vectors, sizes: Sequence[int]) -> Vectors:
    """The L2-normalised mean of each consecutive group of `sizes` rows."""
    starts = np.cumsum([0, *sizes[:-1]])
    sums = np.add.reduceat(vectors, starts, axis=0)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return np.asarray(sums / np.maximum(norms, 1e-12), dtype=np.float32)
