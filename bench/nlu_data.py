"""The data of `make eval-nlu`: the bot's NLU training data, the test sets, the folds, leak checks.

Runs in the bot environment (Rasa 3.6). Rasa's messages are turned into `Example`s here so that
the metrics never touch Rasa objects.
"""

from __future__ import annotations

import csv
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bench.nlu_metrics import Span

# Button payloads, never typed by a customer: trained on, never scored.
PAYLOAD_ONLY_INTENTS = frozenset({"choose_faq"})
PAYLOAD_ONLY_ENTITIES = frozenset({"faq_article"})


@dataclass(frozen=True)
class Example:
    """A labelled test message."""

    text: str
    intent: str
    entities: tuple[Span, ...]


@dataclass(frozen=True)
class Fold:
    """One cross-validation fold: what the model trains on and the examples it is tested on."""

    train: TrainingData
    test: list[Example]


class LeakError(AssertionError):
    """A test message also appears in the training data: the test would measure memory."""


def load_training_data(data_dir: Path) -> TrainingData:
    """Every NLU file under `data_dir`, found and merged the way `rasa train` finds them."""
    return RasaFileImporter(training_data_paths=[str(data_dir)]).get_nlu_data()


def load_test_data(path: Path) -> list[Example]:
    """A Rasa YAML NLU file as examples, payload-only intents left out."""
    return examples_of(load_data(str(path)).intent_examples)


def _spans(message: Message) -> tuple[Span, ...]:
    text = str(message.get("text"))
    return tuple(
        Span(str(e["entity"]), int(e["start"]), int(e["end"]), text[int(e["start"]) : int(e["end"])])
        for e in message.get("entities") or []
        if e["entity"] not in PAYLOAD_ONLY_ENTITIES
    )


def examples_of(messages: Iterable[Message]) -> list[Example]:
    """Rasa messages with an intent and a text as examples; payload-only intents dropped."""
    return [
        Example(text=str(m.get("text")), intent=str(m.get("intent")), entities=_spans(m))
        for m in messages
        if m.get("text") and m.get("intent") not in PAYLOAD_ONLY_INTENTS
    ]


def load_clinc_split(path: Path, split: str) -> list[str]:
    """The texts of one split (train or val) of the CLINC150 out-of-scope CSV."""
    with path.open(newline="") as file:
        return [row["text"] for row in csv.DictReader(file) if row["split"] == split]


def normalise(text: str) -> str:
    """Case, spacing and punctuation folded: "Where is my  order?" is "where is my order"."""
    return " ".join(re.sub(r"[^\w\s]", " ", text).casefold().split())


def training_texts(training_data: TrainingData) -> set[str]:
    """The normalised texts of every training example, for the leak checks."""
    return {normalise(str(m.get("text"))) for m in training_data.nlu_examples if m.get("text")}


def assert_unseen(name: str, texts: Iterable[str], seen: set[str]) -> None:
    """Raise LeakError when any of `texts` is (up to case, spacing, punctuation) a training example."""
    leaked = sorted({t for t in texts if normalise(t) in seen})
    if leaked:
        shown = "; ".join(repr(t) for t in leaked[:10])
        raise LeakError(f"{len(leaked)} {name} messages are also training examples: {shown}")


def assert_no_duplicates(name: str, texts: Sequence[str]) -> None:
    """A test set that repeats a message weighs it twice: refuse it."""
    counts: dict[str, int] = defaultdict(int)
    for text in texts:
        counts[normalise(text)] += 1
    repeated = sorted(t for t, n in counts.items() if n > 1)
    if repeated:
        raise ValueError(f"{name} repeats {len(repeated)} messages: {repeated[:10]}")


def stratified_folds(training_data: TrainingData, n_folds: int, *, seed: int) -> list[Fold]:
    """`n_folds` folds with each intent's examples dealt round-robin after a seeded shuffle.

    Payload-only intents, and intents with fewer examples than folds (they could not appear in
    every test fold), stay in every fold's training data and are never tested.
    """
    by_intent: dict[str, list[Message]] = defaultdict(list)
    for message in training_data.intent_examples:
        by_intent[str(message.get("intent"))].append(message)
    rng = random.Random(seed)  # noqa: S311 (a reproducible shuffle, not a secret)
    test_of_fold: list[list[Message]] = [[] for _ in range(n_folds)]
    always_train: list[Message] = [m for m in training_data.nlu_examples if not m.get("intent")]
    for intent in sorted(by_intent):
        messages = by_intent[intent]
        if intent in PAYLOAD_ONLY_INTENTS or len(messages) < n_folds:
            always_train += messages
            continue
        shuffled = rng.sample(messages, len(messages))
        # Start each intent at a different fold so that the remainders spread evenly.
        offset = rng.randrange(n_folds)
        for i, message in enumerate(shuffled):
            test_of_fold[(i + offset) % n_folds].append(message)
    folds = []
    for k, test in enumerate(test_of_fold):
        train = always_train + [m for j, other in enumerate(test_of_fold) if j != k for m in other]
        folds.append(Fold(train=_with_training_extras(training_data, train), test=examples_of(test)))
    return folds


def _with_training_extras(training_data: TrainingData, examples: list[Message]) -> TrainingData:
    """`examples` with the regexes, lookup tables and synonyms of the full training data."""
    return TrainingData(
        training_examples=examples,
        entity_synonyms=training_data.entity_synonyms,
        regex_features=training_data.regex_features,
        lookup_tables=training_data.lookup_tables,
        responses=training_data.responses,
    )


def untested_intents(training_data: TrainingData, n_folds: int) -> list[str]:
    """Intents too small to cross-validate (fewer examples than folds), payloads excluded."""
    counts: dict[str, int] = defaultdict(int)
    for message in training_data.intent_examples:
        counts[str(message.get("intent"))] += 1
    return sorted(i for i, n in counts.items() if n < n_folds and i not in PAYLOAD_ONLY_INTENTS)
