"""FAQ search latency and index build cost, with the shipped KB and synthetic large ones.

Synthetic articles are words drawn (with their frequencies) from the real articles, so BM25
sees a realistic vocabulary and posting lists; their vectors are random unit vectors, because
encoding 100k articles would take the best part of an hour on this machine. A random vector
costs a search exactly what a real one does (a dot product per article).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from faq.search import ArticleText, Encoder, LiveIndex, Method, Snapshot, index_articles
from faq.search.encoder import Vectors
from faq.search.text import word_text

ENCODE_ONLY = "encode only"
# Searches measured but not counted: first calls fill caches and allocate.
WARMUP_QUERIES = 10
K = 3
_LETTERS = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True, slots=True)
class Latency:
    """Percentiles of one kind of call, in milliseconds."""

    p50_ms: float
    p95_ms: float
    count: int

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Latency:
        """The percentiles of these samples."""
        p50, p95 = np.percentile(np.asarray(samples_ms), [50, 95])
        return cls(p50_ms=float(p50), p95_ms=float(p95), count=len(samples_ms))


@dataclass(frozen=True, slots=True)
class BuildCost:
    """Seconds to make a KB searchable, and to apply one edit to it (encoding excluded)."""

    articles: int
    tokenise_s: float
    snapshot_s: float
    edit_s: float


def synthetic_kb(
    count: int, source: Sequence[ArticleText], dimension: int, seed: int = 7
) -> tuple[list[ArticleText], Vectors]:
    """`count` articles of words drawn from `source`, with random unit vectors."""
    rng = random.Random(seed)  # noqa: S311  # reproducible filler text, not a secret
    vocabulary = [w for a in source for w in _LETTERS.findall(word_text(a))]

    def text(low: int, high: int) -> str:
        return " ".join(rng.choices(vocabulary, k=rng.randint(low, high)))

    articles = [
        ArticleText(
            id=f"synthetic-{number:06d}",
            question=text(5, 12) + "?",
            answer=text(20, 60),
            alternatives=tuple(text(2, 8) for _ in range(rng.randint(3, 6))),
        )
        for number in range(count)
    ]
    vectors = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return articles, vectors


def build_snapshot(articles: Sequence[ArticleText], vectors: Vectors) -> tuple[Snapshot, BuildCost]:
    """The snapshot of these articles, and what building it and then editing one article cost."""
    started = time.perf_counter()
    indexed = index_articles(articles, vectors)
    tokenised = time.perf_counter()
    snapshot = Snapshot(indexed)
    built = time.perf_counter()
    first = articles[0]
    edited = ArticleText(
        id=first.id, question=first.question + " (edited)", answer=first.answer, version=first.version + 1
    )
    snapshot.with_changes(upserts=index_articles([edited], vectors[:1]))
    edit_s = time.perf_counter() - built
    return snapshot, BuildCost(
        articles=len(articles), tokenise_s=tokenised - started, snapshot_s=built - tokenised, edit_s=edit_s
    )


async def _live_latencies(index: LiveIndex, encoder: Encoder, texts: Sequence[str]) -> dict[str, Latency]:
    samples: dict[str, list[float]] = {ENCODE_ONLY: [], **{m.value: [] for m in Method}}
    for number, text in enumerate(texts):
        # Round-robin per question: noise from other tenants hits every method alike.
        started = time.perf_counter()
        encoder.encode_query(text)
        timings = {ENCODE_ONLY: (time.perf_counter() - started) * 1000}
        for method in Method:
            started = time.perf_counter()
            await index.search(text, K, method)
            timings[method.value] = (time.perf_counter() - started) * 1000
        if number >= WARMUP_QUERIES:
            for name, milliseconds in timings.items():
                samples[name].append(milliseconds)
    return {name: Latency.of(values) for name, values in samples.items()}


def search_latencies(snapshot: Snapshot, encoder: Encoder, texts: Sequence[str]) -> dict[str, Latency]:
    """p50/p95 of `LiveIndex.search` per method (query encoding included), and of encoding alone."""
    index = LiveIndex(lambda: encoder)
    index.publish(snapshot)
    return asyncio.run(_live_latencies(index, encoder, texts))
