"""The numbers of `make eval-nlu`, computed from predictions alone (no Rasa import).

Intents: a message the bot rejects (FallbackClassifier's `nlu_fallback` or the `out_of_scope`
intent) gets the same answer either way, so `nlu_fallback` is scored as `out_of_scope`: right
for an out-of-scope message, wrong for every other. Confusions keep the raw prediction.

Entities: a predicted entity counts when its type and character span equal a labelled one's;
all extractors are merged (what the bot's slots see) and duplicates of one span count once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
REJECTED_INTENTS = frozenset({FALLBACK_INTENT, OUT_OF_SCOPE_INTENT})


@dataclass(frozen=True)
class Span:
    """One entity occurrence: its type and character offsets in the message."""

    entity: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Prediction:
    """A labelled message and what the model made of it."""

    text: str
    gold_intent: str
    intent: str  # as the bot sees it: nlu_fallback when FallbackClassifier fired
    confidence: float
    # The classifier's best intents and confidences before FallbackClassifier: explain a
    # rejection, and let other fallback thresholds be tried without retraining.
    ranking: tuple[tuple[str, float], ...] = ()
    gold_entities: tuple[Span, ...] = ()
    entities: tuple[Span, ...] = ()

    @property
    def classified_as(self) -> str:
        """The classifier's best intent, whether or not the fallback overrode it."""
        return self.ranking[0][0] if self.ranking else self.intent

    @property
    def rejected(self) -> bool:
        """The bot would refuse or fall back on this message."""
        return self.intent in REJECTED_INTENTS

    @property
    def scored_intent(self) -> str:
        """The predicted intent for scoring: a fallback counts as out_of_scope."""
        return OUT_OF_SCOPE_INTENT if self.intent == FALLBACK_INTENT else self.intent


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of one label, with its support (labelled occurrences)."""

    precision: float
    recall: float
    f1: float
    support: int
    predicted: int

    @classmethod
    def from_counts(cls, *, true_positives: int, predicted: int, support: int) -> Scores:
        """Scores from counts; a ratio with nothing to divide is 0, as in scikit-learn."""
        precision = true_positives / predicted if predicted else 0.0
        recall = true_positives / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1, support, predicted)


@dataclass(frozen=True)
class IntentReport:
    """Per-intent scores over the labelled intents, their macro-F1, rejections and confusions."""

    per_intent: dict[str, Scores]
    macro_f1: float
    accuracy: float
    in_scope_messages: int
    in_scope_rejected: int
    confusions: list[tuple[str, str, int]]  # (labelled, raw prediction, count), most frequent first

    @property
    def in_scope_rejection_rate(self) -> float:
        """Share of in-scope messages the bot would reject."""
        return self.in_scope_rejected / self.in_scope_messages if self.in_scope_messages else 0.0


@dataclass(frozen=True)
class EntityReport:
    """Per-entity-type scores and their micro average over all types."""

    per_entity: dict[str, Scores]
    micro: Scores


def intent_report(predictions: Sequence[Prediction]) -> IntentReport:
    """Score intents; labels are the intents that occur as labels (predictions add no rows)."""
    labels = sorted({p.gold_intent for p in predictions})
    gold_counts = Counter(p.gold_intent for p in predictions)
    predicted_counts = Counter(p.scored_intent for p in predictions)
    hits = Counter(p.gold_intent for p in predictions if p.scored_intent == p.gold_intent)
    per_intent = {
        label: Scores.from_counts(
            true_positives=hits[label], predicted=predicted_counts[label], support=gold_counts[label]
        )
        for label in labels
    }
    in_scope = [p for p in predictions if p.gold_intent != OUT_OF_SCOPE_INTENT]
    return IntentReport(
        per_intent=per_intent,
        macro_f1=sum(s.f1 for s in per_intent.values()) / len(per_intent) if per_intent else 0.0,
        accuracy=sum(hits.values()) / len(predictions) if predictions else 0.0,
        in_scope_messages=len(in_scope),
        in_scope_rejected=sum(p.rejected for p in in_scope),
        confusions=confusions(predictions),
    )


def confusions(predictions: Iterable[Prediction]) -> list[tuple[str, str, int]]:
    """Wrong predictions grouped by (labelled intent, raw predicted intent), most frequent first."""
    pairs = Counter((p.gold_intent, p.intent) for p in predictions if p.scored_intent != p.gold_intent)
    # Ties broken by name so that two runs with the same numbers print the same table.
    return [
        (gold, predicted, n) for (gold, predicted), n in sorted(pairs.items(), key=lambda i: (-i[1], i[0]))
    ]


def _span_key(span: Span) -> tuple[str, int, int]:
    return span.entity, span.start, span.end


def entity_report(predictions: Sequence[Prediction], entity_types: Iterable[str]) -> EntityReport:
    """Exact-span entity scores for `entity_types`; other predicted types are ignored."""
    types = sorted(entity_types)
    true_positives: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    support: Counter[str] = Counter()
    for p in predictions:
        gold = {_span_key(s) for s in p.gold_entities if s.entity in types}
        found = {_span_key(s) for s in p.entities if s.entity in types}
        support.update(key[0] for key in gold)
        predicted.update(key[0] for key in found)
        true_positives.update(key[0] for key in gold & found)
    per_entity = {
        name: Scores.from_counts(
            true_positives=true_positives[name], predicted=predicted[name], support=support[name]
        )
        for name in types
    }
    micro = Scores.from_counts(
        true_positives=sum(true_positives.values()),
        predicted=sum(predicted.values()),
        support=sum(support.values()),
    )
    return EntityReport(per_entity=per_entity, micro=micro)


def entity_errors(predictions: Iterable[Prediction], entity_types: Iterable[str]) -> list[Prediction]:
    """The messages whose entities (of `entity_types`) were not found exactly."""
    types = set(entity_types)

    def keys(spans: Iterable[Span]) -> set[tuple[str, int, int]]:
        return {_span_key(s) for s in spans if s.entity in types}

    return [p for p in predictions if keys(p.gold_entities) != keys(p.entities)]


@dataclass(frozen=True)
class RejectionReport:
    """How an out-of-scope test set fared: the share rejected, and what the rest became."""

    messages: int
    as_out_of_scope: int
    as_fallback: int
    accepted_as: list[tuple[str, int]]  # intents given to out-of-scope messages, most frequent first

    @property
    def recall(self) -> float:
        """Share of out-of-scope messages the bot rejects (either way)."""
        return (self.as_out_of_scope + self.as_fallback) / self.messages if self.messages else 0.0


def rejection_report(predictions: Sequence[Prediction]) -> RejectionReport:
    """Out-of-scope recall for messages that all should be rejected."""
    accepted = Counter(p.intent for p in predictions if not p.rejected)
    return RejectionReport(
        messages=len(predictions),
        as_out_of_scope=sum(p.intent == OUT_OF_SCOPE_INTENT for p in predictions),
        as_fallback=sum(p.intent == FALLBACK_INTENT for p in predictions),
        accepted_as=sorted(accepted.items(), key=lambda i: (-i[1], i[0])),
    )


def with_fallback(
    predictions: Iterable[Prediction], *, threshold: float, ambiguity: float
) -> list[Prediction]:
    """The predictions FallbackClassifier would give at other thresholds (its rule, replayed)."""
    replayed = []
    for p in predictions:
        if not p.ranking:
            replayed.append(p)
            continue
        (best, confidence), second = p.ranking[0], (p.ranking[1][1] if len(p.ranking) > 1 else None)
        ambiguous = second is not None and confidence - second < ambiguity
        falls_back = confidence < threshold or ambiguous
        replayed.append(replace(p, intent=FALLBACK_INTENT if falls_back else best))
    return replayed
