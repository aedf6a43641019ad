"""Rasa's LogisticRegressionClassifier with `C` configurable, and a cheaper prediction.

Why `C`: Rasa 3.6 fixes scikit-learn's C at 1.0. With 40 intents and ~1,700 examples, C = 1
spreads the probabilities so thin that FallbackClassifier rejects many right answers; `make
eval-nlu` chose C from the cross-validation (docs/benchmarks.md).

Why the rest: classifying one message took ~5 ms of the turn's ~13 ms of NLU (`make
bench-bot`, a cProfile of the parse), for arithmetic worth well under one:
- Rasa builds the input row by deep-copying and combining every featurizer's sequence *and*
  sentence features (`Message.get_sparse_features`), then keeps only the sentence ones; here
  the sentence features are stacked directly, in the same order, into the same row.
- scikit-learn multiplies that row by `coef_.T`, and scipy copies the transposed coefficient
  matrix (intents x ~30,000 n-gram columns) into C order on every call to do it; keeping
  `coef_` in Fortran order makes `coef_.T` C-ordered already, so nothing is copied.
Both give the same numbers as Rasa's own path (tests/bot/test_logistic_regression.py);
training and persistence are Rasa's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, vstack


def sentence_row(message: Message) -> csr_matrix:
    """The message's sentence features as one row: the sparse ones, then the dense ones.

    The same row Rasa's `_create_X` builds from `get_sparse_features(TEXT)[1]` and
    `get_dense_features(TEXT)[1]`, which concatenate each kind in the order the featurizers
    added them. Built from the blocks' indices directly: scipy's `hstack` costs more than the
    classification itself for a single row.
    """
    sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
    values: list[npt.NDArray[Any]] = []
    columns: list[npt.NDArray[Any]] = []
    width = 0
    for block in (f.features.tocoo() for f in sentence if f.is_sparse()):
        values.append(block.data)
        columns.append(block.col.astype(np.int64) + width)
        width += block.shape[1]
    for vector in (np.asarray(f.features).reshape(-1) for f in sentence if f.is_dense()):
        values.append(vector)
        columns.append(np.arange(width, width + vector.shape[0], dtype=np.int64))
        width += vector.shape[0]
    if not values:
        return csr_matrix((1, 0))
    data = np.concatenate(values)
    return csr_matrix((data, np.concatenate(columns), np.array([0, data.shape[0]])), shape=(1, width))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TunedLogisticRegressionClassifier(LogisticRegressionClassifier):
    """LogisticRegressionClassifier whose `C` comes from the config (default scikit-learn's 1.0)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's settings plus `C`."""
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0}

    def __init__(
        self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource
    ) -> None:
        """Rasa's classifier, then the configured C on its scikit-learn model."""
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """C must be positive."""
        if float(config.get("C", 1.0)) <= 0:
            raise InvalidConfigException("TunedLogisticRegressionClassifier: C must be positive")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TunedLogisticRegressionClassifier:
        """Rasa's loading, then the coefficients in the order prediction reads them."""
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        component.keep_coefficients_for_prediction()
        return component  # type: ignore[no-any-return]

    def train(self, training_data: TrainingData) -> Resource:
        """Rasa's training; then, for predictions in the same process, the coefficients' order."""
        resource = super().train(training_data)
        self.keep_coefficients_for_prediction()
        return resource

    def keep_coefficients_for_prediction(self) -> None:
        """Store `coef_` in Fortran order (same values), so `coef_.T` needs no copy per call."""
        if hasattr(self.clf, "coef_"):
            self.clf.coef_ = np.asfortranarray(self.clf.coef_)

    def _create_X(self, messages: list[Message]) -> csr_matrix:  # noqa: N802 (Rasa's name)
        """One row of sentence features per message, as Rasa's, without the sequence features."""
        return vstack([sentence_row(message) for message in messages], format="csr")
