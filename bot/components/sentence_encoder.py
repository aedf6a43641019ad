"""Dense features from a pretrained sentence encoder (all-MiniLM-L6-v2 as ONNX) for the NLU pipeline.

Why: the bag of word and character n-grams cannot tell apart paraphrases that share few words
("get my bill" / "download the invoice"); a sentence embedding can. The encoder is the CRM
environment's ONNX export of all-MiniLM-L6-v2 (faq/search/onnx_model.py, run by `make setup`):
its graph takes input_ids/attention_mask/token_type_ids and returns the L2-normalised
`sentence_embedding`. Training reads the file named by $BOT_ENCODER_ONNX (and the tokenizer by
$BOT_ENCODER_TOKENIZER) and copies both into the Rasa model, so a trained model is
self-contained: `rasa run` needs no variable and no CRM environment, and a model never runs
with another encoder than the one it was trained with.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from tokenizers import Tokenizer as WordPieceTokenizer

ONNX_ENV, TOKENIZER_ENV = "BOT_ENCODER_ONNX", "BOT_ENCODER_TOKENIZER"
ONNX_FILE, TOKENIZER_FILE = "model.onnx", "tokenizer.json"
OUTPUT_NAME = "sentence_embedding"
# Training texts are encoded in batches padded to their longest member: ~10x faster than one
# by one; a live message is encoded alone and unpadded (~4 ms on one core).
BATCH_SIZE = 32
MAX_TOKENS = 128


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the sentence embedding of a message's text as dense sentence and sequence features."""

    @classmethod
    def required_components(cls) -> list[type]:
        """A tokenizer first: the sequence feature has one row per token."""
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        """The encoder runs on onnxruntime, its tokenizer on `tokenizers`."""
        return ["onnxruntime", "tokenizers"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`scale` multiplies the unit-length embedding so it weighs against count features."""
        return {**DenseFeaturizer.get_default_config(), "scale": 1.0, "intra_op_threads": 1}

    def __init__(
        self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource
    ) -> None:
        """Keep the settings; the ONNX session is opened by `_open` from a folder with both files."""
        super().__init__(name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: WordPieceTokenizer | None = None

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """A positive scale and thread count."""
        if float(config["scale"]) <= 0 or int(config["intra_op_threads"]) < 1:
            raise InvalidConfigException(
                "SentenceEncoderFeaturizer: scale and intra_op_threads must be positive"
            )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        """A featurizer for training: the encoder comes from the files the environment names."""
        featurizer = cls(config, execution_context.node_name, model_storage, resource)
        featurizer._open(*_configured_files())
        return featurizer

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceEncoderFeaturizer:
        """The featurizer of a trained model, with the encoder stored inside that model."""
        featurizer = cls(config, execution_context.node_name, model_storage, resource)
        with model_storage.read_from(resource) as folder:
            # The session and tokenizer read the files now; the folder may vanish afterwards.
            featurizer._open(folder / ONNX_FILE, folder / TOKENIZER_FILE)
        return featurizer

    def _open(self, onnx_file: Path, tokenizer_file: Path) -> None:
        self._onnx_file, self._tokenizer_file = onnx_file, tokenizer_file
        options = onnxruntime.SessionOptions()
        # Rasa serves many conversations on one event loop and the machine has few cores:
        # one thread per encoding keeps a turn from stalling the others.
        options.intra_op_num_threads = int(self._config["intra_op_threads"])
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = WordPieceTokenizer.from_file(str(tokenizer_file))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (not a password); to the batch's longest text
        self._tokenizer = tokenizer

    def train(self, training_data: TrainingData) -> Resource:
        """Nothing to learn: store the encoder's files in the model so it loads without them."""
        with self._model_storage.write_to(self._resource) as folder:
            shutil.copyfile(self._onnx_file, folder / ONNX_FILE)
            shutil.copyfile(self._tokenizer_file, folder / TOKENIZER_FILE)
        return self._resource

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """The scaled sentence embeddings of `texts`, one row each."""
        assert self._session is not None
        assert self._tokenizer is not None
        rows = []
        for start in range(0, len(texts), BATCH_SIZE):
            encodings = self._tokenizer.encode_batch(texts[start : start + BATCH_SIZE])
            feeds = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            rows.append(self._session.run([OUTPUT_NAME], feeds)[0])
        return np.vstack(rows) * float(self._config["scale"])

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the features to every message that has text and tokens."""
        todo = [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        if todo:
            for message, vector in zip(todo, self.encode([str(m.get(TEXT)) for m in todo]), strict=True):
                self._add_features(message, vector)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize the training examples in place."""
        self.process(training_data.training_examples)
        return training_data

    def _add_features(self, message: Message, vector: npt.NDArray[np.float32]) -> None:
        alias = self._config[FEATURIZER_CLASS_ALIAS]
        # The graph returns only the pooled vector, not per-word ones: the sequence feature
        # repeats it for each token, so sequence and sentence features agree in width and
        # a sequence consumer (DIET) gets the right length.
        tokens = len(message.get(TOKENS_NAMES[TEXT]))
        sequence = np.repeat(vector[np.newaxis, :], tokens, axis=0)
        message.add_features(Features(sequence, FEATURE_TYPE_SEQUENCE, TEXT, alias))
        message.add_features(Features(vector[np.newaxis, :], FEATURE_TYPE_SENTENCE, TEXT, alias))


def _configured_files() -> tuple[Path, Path]:
    """The ONNX file and tokenizer named by the environment (set by devstack and the Makefile)."""
    onnx_file = os.environ.get(ONNX_ENV, "")
    tokenizer_file = os.environ.get(TOKENIZER_ENV) or str(Path(onnx_file).parent / TOKENIZER_FILE)
    for variable, path in ((ONNX_ENV, onnx_file), (TOKENIZER_ENV, tokenizer_file)):
        if not path or not Path(path).is_file():
            raise InvalidConfigException(
                f"SentenceEncoderFeaturizer: ${variable} must name the encoder's file, not {path!r}; "
                "`make train` sets it from the FAQ encoder export (`make faq-encoder`)"
            )
    return Path(onnx_file), Path(tokenizer_file)
