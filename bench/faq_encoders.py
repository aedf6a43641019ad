"""The query encoder on onnxruntime, with its session settings, against the torch baseline.

The baseline is what the search shipped before: the same model in sentence-transformers on
torch with one thread (one forward pass per query). Each question is encoded by every variant
in turn, so noise from other tenants of the machine hits them alike; batch throughput is one
`encode` of the KB's phrasings per variant. Agreement is the largest 1 - cosine between a
variant's query vector and torch's for the same question. A session with spinning threads
(onnxruntime's default) is measured alone afterwards: its threads keep spinning after a call
and would slow whichever variant ran next.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.faq_latency import WARMUP_QUERIES, Latency
from faq.search.encoder import OnnxEncoder, Vectors, session_options
from faq.search.onnx_model import ensure_exported, model_path

BASELINE = "torch, 1 thread (before)"
SHIPPED = "onnxruntime, 1 thread (shipped)"


@dataclass(frozen=True, slots=True)
class EncoderResult:
    """One encoder variant: query latency, batch throughput, agreement with the baseline."""

    name: str
    query: Latency
    batch_texts_per_s: float
    max_cosine_gap: float


@dataclass(frozen=True, slots=True)
class _Variant:
    name: str
    encode_query: Callable[[str], Vectors]
    encode: Callable[[Sequence[str]], Vectors]


def _torch_baseline() -> _Variant:
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    model = SentenceTransformer(str(model_path()), device="cpu")

    def encode_query(text: str) -> Vectors:
        with torch.inference_mode():
            vector = model(model.preprocess([text]))["sentence_embedding"][0]
        return np.asarray(vector.numpy(), dtype=np.float32)

    def encode(texts: Sequence[str]) -> Vectors:
        vectors = model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    return _Variant(BASELINE, encode_query, encode)


def _onnx(name: str, threads: int, *, spinning: bool = False) -> _Variant:
    encoder = OnnxEncoder(
        ensure_exported(), model_path(), options=session_options(threads, spinning=spinning)
    )
    return _Variant(name, encoder.encode_query, encoder.encode)


def _round_robin(
    variants: Sequence[_Variant], queries: Sequence[str]
) -> tuple[dict[str, Latency], dict[str, Vectors]]:
    """Each variant's query latency and query vectors, variants taken in turn per question."""
    samples: dict[str, list[float]] = {v.name: [] for v in variants}
    vectors: dict[str, list[Vectors]] = {v.name: [] for v in variants}
    for number, text in enumerate(queries):
        for variant in variants:
            started = time.perf_counter()
            vectors[variant.name].append(variant.encode_query(text))
            if number >= WARMUP_QUERIES:
                samples[variant.name].append((time.perf_counter() - started) * 1000)
    latencies = {name: Latency.of(values) for name, values in samples.items()}
    return latencies, {name: np.vstack(rows) for name, rows in vectors.items()}


def encoder_comparison(queries: Sequence[str], batch: Sequence[str]) -> list[EncoderResult]:
    """Every variant on the same queries and batch; the baseline first."""
    variants = [_torch_baseline(), _onnx(SHIPPED, 1), _onnx("onnxruntime, 2 threads", 2)]
    spinning = _onnx("onnxruntime, 2 threads, spinning (alone, after)", 2, spinning=True)
    latencies, vectors = _round_robin(variants, queries)
    alone_latencies, alone_vectors = _round_robin([spinning], queries)
    latencies.update(alone_latencies)
    vectors.update(alone_vectors)
    results = []
    for variant in [*variants, spinning]:
        started = time.perf_counter()
        variant.encode(batch)
        per_s = len(batch) / (time.perf_counter() - started)
        cosines = np.einsum("ij,ij->i", vectors[variant.name], vectors[BASELINE])
        gap = float(1 - cosines.min())
        results.append(EncoderResult(variant.name, latencies[variant.name], per_s, gap))
    return results
