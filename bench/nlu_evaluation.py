"""What one `make eval-nlu` run measured, the issue's targets, and fallback thresholds replayed.

No Rasa import: everything is computed from the predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from bench.nlu_metrics import (
    OUT_OF_SCOPE_INTENT,
    EntityReport,
    IntentReport,
    Prediction,
    RejectionReport,
    entity_report,
    intent_report,
    rejection_report,
    with_fallback,
)

# faq_article is a button payload's entity, never typed: not scored.
SCORED_ENTITIES = ("email", "order_number", "phone", "ticket_number")
MIN_MACRO_F1 = 0.95
MIN_OUT_OF_SCOPE_RECALL = 0.85
MAX_IN_SCOPE_REJECTION = 0.03


@dataclass
class Evaluation:
    """Everything one run measured: raw predictions, and how they were obtained."""

    folds: int
    config_file: str  # as given on the command line: bot/config.yml unless trying another
    pipeline: str
    training_examples: int
    training_intents: int
    holdout_file: str
    fallback: tuple[float, float]  # the shipped FallbackClassifier threshold and ambiguity threshold
    untested_intents: list[str] = field(default_factory=list)
    cross_validation: list[Prediction] = field(default_factory=list)
    holdout: list[Prediction] = field(default_factory=list)
    out_of_scope: list[Prediction] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @cached_property
    def cv_intents(self) -> IntentReport:
        """Intent scores over all cross-validation test folds together."""
        return intent_report(self.cross_validation)

    @cached_property
    def holdout_intents(self) -> IntentReport:
        """Intent scores on the own-words holdout."""
        return intent_report(self.holdout)

    @cached_property
    def cv_entities(self) -> EntityReport:
        """Entity scores over all cross-validation test folds together."""
        return entity_report(self.cross_validation, SCORED_ENTITIES)

    @cached_property
    def holdout_entities(self) -> EntityReport:
        """Entity scores on the own-words holdout."""
        return entity_report(self.holdout, SCORED_ENTITIES)

    @cached_property
    def rejection(self) -> RejectionReport:
        """Out-of-scope recall on the CLINC150 val split."""
        return rejection_report(self.out_of_scope)


@dataclass(frozen=True)
class Target:
    """One goal of the issue and what this run measured for it."""

    label: str
    measured: str
    met: bool


def percent(value: float) -> str:
    """0.0312 as "3.1%"."""
    return f"{100 * value:.1f}%"


def _rejected(report: IntentReport) -> str:
    return (
        f"{percent(report.in_scope_rejection_rate)} ({report.in_scope_rejected}/{report.in_scope_messages})"
    )


def targets(evaluation: Evaluation) -> list[Target]:
    """The issue's targets, each checked on cross-validation and on customers' own words."""
    cv, holdout, oos_recall = evaluation.cv_intents, evaluation.holdout_intents, evaluation.rejection.recall
    return [
        Target(
            "intent macro-F1 ≥ 0.95 (cross-validation)", f"{cv.macro_f1:.3f}", cv.macro_f1 >= MIN_MACRO_F1
        ),
        Target(
            "intent macro-F1 ≥ 0.95 (own-words holdout)",
            f"{holdout.macro_f1:.3f}",
            holdout.macro_f1 >= MIN_MACRO_F1,
        ),
        Target(
            "out-of-scope recall ≥ 0.85 (CLINC150 val)",
            f"{oos_recall:.3f}",
            oos_recall >= MIN_OUT_OF_SCOPE_RECALL,
        ),
        Target(
            "in-scope rejected ≤ 3% (cross-validation)",
            _rejected(cv),
            cv.in_scope_rejection_rate <= MAX_IN_SCOPE_REJECTION,
        ),
        Target(
            "in-scope rejected ≤ 3% (own-words holdout)",
            _rejected(holdout),
            holdout.in_scope_rejection_rate <= MAX_IN_SCOPE_REJECTION,
        ),
    ]


def all_met(evaluation: Evaluation) -> bool:
    """Every target met."""
    return all(t.met for t in targets(evaluation))


@dataclass(frozen=True)
class FallbackPoint:
    """The numbers at one FallbackClassifier setting, replayed on this run's predictions."""

    threshold: float
    ambiguity: float
    cv: IntentReport
    holdout: IntentReport
    cv_out_of_scope_recall: float
    val_out_of_scope_recall: float


def fallback_point(evaluation: Evaluation, threshold: float, ambiguity: float) -> FallbackPoint:
    """Replay FallbackClassifier at (threshold, ambiguity) on every test set.

    Exact, not an estimate: the classifier does not depend on the fallback settings, and the
    rule only compares the top two confidences with the thresholds.
    """

    def replay(predictions: Sequence[Prediction]) -> list[Prediction]:
        return with_fallback(predictions, threshold=threshold, ambiguity=ambiguity)

    cv = intent_report(replay(evaluation.cross_validation))
    out_of_scope = cv.per_intent.get(OUT_OF_SCOPE_INTENT)
    return FallbackPoint(
        threshold=threshold,
        ambiguity=ambiguity,
        cv=cv,
        holdout=intent_report(replay(evaluation.holdout)),
        cv_out_of_scope_recall=out_of_scope.recall if out_of_scope else 0.0,
        val_out_of_scope_recall=rejection_report(replay(evaluation.out_of_scope)).recall,
    )


def replay_agreement(evaluation: Evaluation) -> tuple[int, int]:
    """How many predictions the replayed fallback rule reproduces at the shipped settings."""
    actual = [*evaluation.cross_validation, *evaluation.holdout, *evaluation.out_of_scope]
    threshold, ambiguity = evaluation.fallback
    replayed = with_fallback(actual, threshold=threshold, ambiguity=ambiguity)
    return sum(a.intent == r.intent for a, r in zip(actual, replayed, strict=True)), len(actual)
