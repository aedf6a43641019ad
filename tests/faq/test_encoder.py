"""The onnxruntime encoder against its oracle, the same model in sentence-transformers on torch."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from faq.search import OnnxEncoder, load_encoder
from faq.search.onnx_model import cache_key, ensure_exported, exported_path, model_path

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Vectors closer than this are the same for the search: scores are compared at 0.01 steps.
MIN_COSINE = 0.9999
QUESTIONS = Path(__file__).resolve().parents[2] / "faq" / "eval" / "questions.csv"
LONG = " ".join(["My parcel was supposed to arrive last Tuesday but the tracking page still says"] * 30)
SPECIAL = [
    "",
    "   ",
    "?!",
    "a",
    "Wo ist meine Bestellung? Größe passt nicht, Rücksendung möglich?",
    "Où est ma commande ? Je voudrais un remboursement",
    "我的包裹在哪里",  # CJK on purpose
    "أين طلبي",
    "refund 🙏🙏 please!!! order #A-10023 €49.99",
    "retrun my ordr pls",
    "Hello.\n\nI ordered shoes on Monday.\tThey are too small. Can I exchange them for a bigger size?",
    LONG,
]


def sample_texts() -> list[str]:
    """The special cases and every 7th labelled evaluation question (about 50 real messages)."""
    with QUESTIONS.open(encoding="utf-8", newline="") as file:
        questions = [row["question"] for row in csv.DictReader(file)]
    return SPECIAL + questions[::7]


@pytest.fixture(scope="module")
def oracle() -> SentenceTransformer:
    # Imported here, after faq.search.onnx_model has switched huggingface_hub to offline.
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_path()), device="cpu")


@pytest.fixture(scope="module")
def encoder() -> OnnxEncoder:
    return load_encoder()


@pytest.fixture(scope="module")
def expected(oracle: SentenceTransformer) -> tuple[list[str], np.ndarray]:
    """The sample texts and the oracle's vector of each, one text per call (no padding)."""
    texts = sample_texts()
    vectors = [oracle.encode([t], normalize_embeddings=True, convert_to_numpy=True)[0] for t in texts]
    return texts, np.vstack(vectors)


def test_the_long_sample_is_longer_than_the_model_reads(oracle):
    assert len(oracle.tokenizer(LONG)["input_ids"]) > oracle.get_max_seq_length() == 256


def test_query_vectors_match_the_torch_model(encoder, expected):
    texts, vectors = expected
    for text, want in zip(texts, vectors, strict=True):
        got = encoder.encode_query(text)
        assert got.dtype == np.float32
        assert got.shape == (384,)
        assert abs(float(np.linalg.norm(got)) - 1) < 1e-5
        assert float(got @ want) >= MIN_COSINE, text


def test_batch_vectors_match_the_torch_model_in_input_order(encoder, expected):
    # More than one batch, with texts of very different lengths padded together.
    texts, vectors = (expected[0] * 2)[:100], np.vstack([expected[1]] * 2)[:100]
    got = encoder.encode(texts)
    assert got.shape == (len(texts), 384)
    assert got.dtype == np.float32
    cosines = np.einsum("ij,ij->i", got, vectors)
    assert cosines.min() >= MIN_COSINE, texts[int(cosines.argmin())]


def test_a_batch_and_a_single_query_agree(encoder):
    texts = ["hi", "How long does delivery to Austria take?", LONG]
    batch = encoder.encode(texts)
    for text, row in zip(texts, batch, strict=True):
        assert float(row @ encoder.encode_query(text)) >= MIN_COSINE


def test_an_empty_batch_has_no_rows(encoder):
    assert encoder.encode([]).shape == (0, 384)


def test_the_exported_file_is_reused_when_nothing_changed():
    path = ensure_exported()
    modified = path.stat().st_mtime_ns
    assert ensure_exported() == path == exported_path()
    assert path.stat().st_mtime_ns == modified


def test_the_cache_key_follows_every_model_file(tmp_path):
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "config.json").write_text('{"hidden_size": 384}')
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    first = cache_key(tmp_path)
    assert cache_key(tmp_path) == first
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": false}')
    changed = cache_key(tmp_path)
    assert changed != first
    os.rename(tmp_path / "config.json", tmp_path / "config2.json")
    assert cache_key(tmp_path) not in {first, changed}


def test_the_cache_folder_can_be_moved(tmp_path, monkeypatch):
    monkeypatch.setenv("FAQ_ENCODER_CACHE", str(tmp_path))
    assert exported_path().parent.parent == tmp_path
