"""Ranking and answer-decision metrics for FAQ search, and the calibration of the answer threshold.

Definitions (every rate is a share of labelled questions):
- top-1, top-3: the right article is first / among the first three; on answerable questions.
- MRR@10: mean of 1 / rank of the right article in the first ten (0 when absent); answerable.
- A search *answers* when its best score reaches the threshold.
- answered precision: of the questions answered (any label), the share whose first hit is right;
  an answered `none` question counts as wrong.
- answerable recall: of the answerable questions, the share answered with the right article.
- none rejected: of the `none` questions, the share not answered.
- F1: the harmonic mean of answered precision and answerable recall.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

NONE = "none"
KINDS = ("paraphrase", "typo", "multi", "short")
RANKED_DEPTH = 10
# The target: at least this share of unanswerable questions is rejected.
MIN_NONE_REJECTION = 0.85
# Thresholds are searched (and shipped) on this grid.
THRESHOLD_STEP = 0.01
CURVE_LEVELS = (0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)


@dataclass(frozen=True, slots=True)
class Labelled:
    """A customer question and the article that answers it (`none` when no article does)."""

    question: str
    article_id: str
    kind: str

    @property
    def answerable(self) -> bool:
        """Whether an article answers it."""
        return self.article_id != NONE


@dataclass(frozen=True, slots=True)
class Ranked:
    """One search's outcome for a labelled question: ids best first and the best score."""

    labelled: Labelled
    ids: tuple[str, ...]
    best_score: float

    @property
    def rank(self) -> int | None:
        """1-based position of the right article among `ids`, if it is there."""
        try:
            return self.ids.index(self.labelled.article_id) + 1
        except ValueError:
            return None

    @property
    def first_is_right(self) -> bool:
        """Whether the first hit is the right article (never for a `none` question)."""
        return self.labelled.answerable and self.rank == 1


@dataclass(frozen=True, slots=True)
class RankingQuality:
    """How well a method orders articles, on answerable questions."""

    top1: float
    top3: float
    mrr: float
    top1_by_kind: dict[str, float]
    answerable: int


@dataclass(frozen=True, slots=True)
class Decision:
    """The answered/none decision at one threshold."""

    threshold: float
    answered_precision: float
    answerable_recall: float
    none_rejected: float

    @property
    def f1(self) -> float:
        """Harmonic mean of answered precision and answerable recall."""
        total = self.answered_precision + self.answerable_recall
        return 2 * self.answered_precision * self.answerable_recall / total if total else 0.0


def load_questions(path: Path) -> list[Labelled]:
    """The labelled questions of a `question,article_id,kind` CSV file."""
    with path.open(encoding="utf-8", newline="") as file:
        return [Labelled(row["question"], row["article_id"], row["kind"]) for row in csv.DictReader(file)]


def _share(hits: float, total: int) -> float:
    return hits / total if total else 0.0


def ranking_quality(ranked: Sequence[Ranked]) -> RankingQuality:
    """top-1, top-3, MRR@10 and top-1 per kind, on the answerable questions."""
    answerable = [r for r in ranked if r.labelled.answerable]
    ranks = [r.rank for r in answerable]
    by_kind = {
        kind: _share(sum(r.first_is_right for r in group), len(group))
        for kind in KINDS
        if (group := [r for r in answerable if r.labelled.kind == kind])
    }
    return RankingQuality(
        top1=_share(sum(rank == 1 for rank in ranks), len(ranks)),
        top3=_share(sum(rank is not None and rank <= 3 for rank in ranks), len(ranks)),
        mrr=_share(sum(1 / rank for rank in ranks if rank is not None), len(ranks)),
        top1_by_kind=by_kind,
        answerable=len(answerable),
    )


def decide(ranked: Sequence[Ranked], threshold: float) -> Decision:
    """The decision metrics when a search answers at `best_score >= threshold`."""
    answered = [r for r in ranked if r.best_score >= threshold]
    right = sum(r.first_is_right for r in answered)
    unanswerable = [r for r in ranked if not r.labelled.answerable]
    return Decision(
        threshold=threshold,
        answered_precision=_share(right, len(answered)),
        answerable_recall=_share(right, sum(r.labelled.answerable for r in ranked)),
        none_rejected=_share(sum(r.best_score < threshold for r in unanswerable), len(unanswerable)),
    )


def decided(ranked: Sequence[Ranked], answered: Sequence[bool]) -> Decision:
    """The decision metrics for decisions made elsewhere (the CRM's `answered` flag)."""
    right = sum(r.first_is_right for r, yes in zip(ranked, answered, strict=True) if yes)
    unanswerable = [yes for r, yes in zip(ranked, answered, strict=True) if not r.labelled.answerable]
    return Decision(
        threshold=math.nan,
        answered_precision=_share(right, sum(answered)),
        answerable_recall=_share(right, sum(r.labelled.answerable for r in ranked)),
        none_rejected=_share(unanswerable.count(False), len(unanswerable)),
    )


def threshold_grid(ranked: Sequence[Ranked]) -> list[float]:
    """Every THRESHOLD_STEP from just below the lowest best score to just above the highest."""
    scores = [r.best_score for r in ranked]
    low, high = math.floor(min(scores) / THRESHOLD_STEP), math.ceil(max(scores) / THRESHOLD_STEP) + 1
    return [round(step * THRESHOLD_STEP, 2) for step in range(low, high + 1)]


def calibrate(ranked: Sequence[Ranked]) -> Decision:
    """The threshold with the best F1 among those that reject ≥ MIN_NONE_REJECTION of `none`.

    Several neighbouring thresholds often make the very same decisions; the middle one of
    that run is taken, so a small drift of scores does not flip a labelled decision.
    """
    curve = [decide(ranked, t) for t in threshold_grid(ranked)]
    allowed = [i for i, d in enumerate(curve) if d.none_rejected >= MIN_NONE_REJECTION]
    if not allowed:
        return curve[-1]
    # The best F1; of equals, the lowest threshold (the run of same decisions starts there).
    first = max(allowed, key=lambda i: (curve[i].f1, -i))
    last = first
    while last + 1 < len(curve) and _same_decisions(curve[last + 1], curve[first]):
        last += 1
    return curve[(first + last) // 2]


def _same_decisions(a: Decision, b: Decision) -> bool:
    return (a.answered_precision, a.answerable_recall, a.none_rejected) == (
        b.answered_precision,
        b.answerable_recall,
        b.none_rejected,
    )


def curve_summary(ranked: Sequence[Ranked]) -> list[Decision]:
    """For each level of CURVE_LEVELS, the lowest threshold that rejects that share of `none`."""
    curve = [decide(ranked, t) for t in threshold_grid(ranked)]
    summary: list[Decision] = []
    for level in CURVE_LEVELS:
        reaching = next((d for d in curve if d.none_rejected >= level), None)
        if reaching is not None and reaching not in summary:
            summary.append(reaching)
    return summary
