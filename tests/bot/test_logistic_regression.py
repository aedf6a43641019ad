"""bot/components/logistic_regression.py: the cheaper prediction gives Rasa's own numbers.

The component is trained and loaded back as Rasa does it (a model storage), on messages
featurized by Rasa's real featurizers (word and character n-gram counts) plus a dense
sentence vector like the sentence encoder's; Rasa's LogisticRegressionClassifier, loaded
from the same storage, is the reference.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bot"))  # as Rasa runs: from bot/

from components.logistic_regression import TunedLogisticRegressionClassifier, sentence_row

EXAMPLES = {
    "track_order": ["where is my order", "track order ORD-1", "wheres my parcel", "has my package shipped"],
    "cancel_order": ["cancel my order", "i want to cancel", "stop the order please", "cancel ORD-2"],
    "get_refund": ["i want my money back", "refund please", "how do i get a refund", "refund for ORD-3"],
}
UNSEEN = ["trak my oder", "cancle it", "money back for ORD-9", "", "where", "please refund the parcel"]
CONFIG = {**TunedLogisticRegressionClassifier.get_default_config(), "C": 10.0, "random_state": 42}


def _featurizers(storage: LocalModelStorage, context: ExecutionContext) -> list:
    words = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("words"), context
    )
    chars = CountVectorsFeaturizer.create(
        {
            **CountVectorsFeaturizer.get_default_config(),
            "analyzer": "char_wb",
            "min_ngram": 1,
            "max_ngram": 4,
        },
        storage,
        Resource("chars"),
        context,
    )
    return [words, chars]


def _featurize(messages: list[Message], featurizers: list, *, dense_width: int = 5) -> list[Message]:
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    for featurizer in featurizers:
        featurizer.process(messages)
    rng = np.random.default_rng(7)
    for message in messages:
        tokens = max(1, len(message.get("text_tokens") or []))
        vector = rng.normal(size=(1, dense_width)).astype(np.float32)
        message.add_features(
            Features(np.repeat(vector, tokens, axis=0), FEATURE_TYPE_SEQUENCE, TEXT, "encoder")
        )
        message.add_features(Features(vector, FEATURE_TYPE_SENTENCE, TEXT, "encoder"))
    return messages


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    context = ExecutionContext(GraphSchema({}), "test")
    featurizers = _featurizers(storage, context)
    examples = [
        Message(data={TEXT: text, INTENT: intent}) for intent, texts in EXAMPLES.items() for text in texts
    ]
    data = TrainingData(examples)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    for featurizer in featurizers:
        featurizer.train(data)
    _featurize(examples, featurizers)
    resource = Resource("intents")
    TunedLogisticRegressionClassifier.create(CONFIG, storage, resource, context).train(data)
    ours = TunedLogisticRegressionClassifier.load(CONFIG, storage, resource, context)
    rasas = LogisticRegressionClassifier.load(CONFIG, storage, resource, context)
    return ours, rasas, featurizers


def _unseen(featurizers: list) -> list[Message]:
    return _featurize([Message(data={TEXT: text}) for text in UNSEEN], featurizers)


def test_the_input_rows_are_rasas(trained):
    ours, rasas, featurizers = trained
    messages = _unseen(featurizers)
    fast = ours._create_X(messages)
    reference = LogisticRegressionClassifier._create_X(rasas, messages)
    assert fast.shape == reference.shape
    assert fast.shape[1] > 100  # word and character n-grams plus the dense vector
    np.testing.assert_array_equal(fast.toarray(), reference.toarray())


def test_a_message_without_features_gives_an_empty_row():
    assert sentence_row(Message(data={TEXT: "hi"})).shape == (1, 0)


def test_intents_and_rankings_equal_rasas_own_prediction(trained):
    ours, rasas, featurizers = trained
    fast = ours.process(_unseen(featurizers))
    reference = rasas.process(_unseen(featurizers))
    assert ours.clf.coef_.flags.f_contiguous
    assert not rasas.clf.coef_.flags.f_contiguous
    for mine, theirs in zip(fast, reference, strict=True):
        assert mine.get(INTENT)["name"] == theirs.get(INTENT)["name"]
        mine_ranking = [(r["name"], r["confidence"]) for r in mine.get("intent_ranking")]
        their_ranking = [(r["name"], r["confidence"]) for r in theirs.get("intent_ranking")]
        assert [name for name, _ in mine_ranking] == [name for name, _ in their_ranking]
        np.testing.assert_allclose(
            [c for _, c in mine_ranking], [c for _, c in their_ranking], rtol=1e-12, atol=1e-15
        )
    assert {m.get(INTENT)["name"] for m in fast[:3]} == set(EXAMPLES)  # it learned something


def test_c_is_configurable_and_must_be_positive():
    with pytest.raises(InvalidConfigException):
        TunedLogisticRegressionClassifier.validate_config({"C": 0})
