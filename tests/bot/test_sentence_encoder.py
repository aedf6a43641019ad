"""The NLU pipeline's sentence encoder, run as Rasa runs it: trained into a model storage, loaded back."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bot"))  # as Rasa runs: from bot/

from components.sentence_encoder import ONNX_ENV, TOKENIZER_ENV, SentenceEncoderFeaturizer

# `make test-actions` sets $BOT_ENCODER_ONNX/$BOT_ENCODER_TOKENIZER to the FAQ search's export
# (`python -m devstack.model encoder-env`); without them the fixture fails and says so.

CONFIG = {**SentenceEncoderFeaturizer.get_default_config(), "scale": 3.0}


def tokenized(*texts: str) -> list[Message]:
    """Messages with text and whitespace tokens, as the pipeline's tokenizer leaves them."""
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    messages = [Message(data={TEXT: text}) for text in texts]
    tokenizer.process(messages)
    return messages


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> SentenceEncoderFeaturizer:
    """Train (store the encoder in the model), then load it back from the storage alone."""
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("sentence_encoder")
    context = ExecutionContext(GraphSchema({}), "test")
    training = SentenceEncoderFeaturizer.create(CONFIG, storage, resource, context)
    training.train(TrainingData(tokenized("track my order")))
    return SentenceEncoderFeaturizer.load(CONFIG, storage, resource, context)


def sentence_vector(featurizer: SentenceEncoderFeaturizer, text: str) -> np.ndarray:
    """The dense sentence feature the featurizer adds to `text`."""
    (message,) = featurizer.process(tokenized(text))
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is not None
    assert sentence is not None
    assert sequence.features.shape == (len(text.split()), 384)
    return np.asarray(sentence.features[0])


def test_features_are_the_scaled_unit_embedding_with_one_sequence_row_per_token(trained):
    vector = sentence_vector(trained, "where is my parcel ORD-104233?")
    assert vector.shape == (384,)
    assert np.linalg.norm(vector) == pytest.approx(3.0, abs=1e-3)


def test_paraphrases_without_shared_words_are_closer_than_other_requests(trained):
    def cosine(a: str, b: str) -> float:
        u, v = sentence_vector(trained, a), sentence_vector(trained, b)
        return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))

    assert cosine("I need a copy of my bill", "download invoice") > cosine(
        "download invoice", "cancel my order"
    )


def test_a_batch_gives_the_same_vectors_as_messages_one_by_one(trained):
    texts = ("hi", "i want to return the shoes i bought last week, they are too small")
    batch = trained.process(tokenized(*texts))
    for message, text in zip(batch, texts, strict=True):
        alone = sentence_vector(trained, text)
        assert np.allclose(message.get_dense_features(TEXT)[1].features[0], alone, atol=1e-5)


def test_training_without_the_encoder_file_says_which_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(ONNX_ENV, str(tmp_path / "missing.onnx"))
    monkeypatch.delenv(TOKENIZER_ENV, raising=False)
    context = ExecutionContext(GraphSchema({}), "test")
    with pytest.raises(InvalidConfigException, match=ONNX_ENV):
        SentenceEncoderFeaturizer.create(CONFIG, LocalModelStorage(tmp_path), Resource("r"), context)
