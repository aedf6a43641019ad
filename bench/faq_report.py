"""Tables, targets and the docs/benchmarks.md section of `make eval-faq` (bench/faq_eval.py)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench import report
from bench.faq_encoders import BASELINE, EncoderResult
from bench.faq_latency import ENCODE_ONLY, BuildCost, Latency
from bench.faq_metrics import KINDS, MIN_NONE_REJECTION, Decision, RankingQuality
from faq.search import Method

NAME = "eval-faq"
OURS, OTHER = "ours", "other shop"
TARGET_TOP1, TARGET_MARGIN = 0.90, 0.05
TARGET_P95_MS = {1_000: 20.0, 100_000: 100.0}
HISTORY_HEADER = (
    "date",
    "commit",
    "hybrid top-1",
    "BM25 top-1",
    "none rejected",
    "other shop hybrid top-1",
    "threshold",
    "p95 1k ms",
    "p95 100k ms",
    "targets",
    "note",
)


@dataclass(frozen=True, slots=True)
class MethodResult:
    """One method on one KB: its ranking and its answered/none decision."""

    quality: RankingQuality
    decision: Decision


@dataclass
class Evaluation:
    """Everything one run measured."""

    results: dict[str, dict[Method, MethodResult]] = field(default_factory=dict)
    calibrated: dict[Method, Decision] = field(default_factory=dict)
    curves: dict[Method, list[Decision]] = field(default_factory=dict)
    shipped_threshold: float = 0.0
    # Questions on which the CRM over HTTP and the in-process index agree: (top-1 and answered, asked).
    agreement: dict[str, tuple[int, int]] = field(default_factory=dict)
    http: dict[str, Latency] = field(default_factory=dict)
    latency: dict[int, dict[str, Latency]] = field(default_factory=dict)
    builds: list[BuildCost] = field(default_factory=list)
    encoders: list[EncoderResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def threshold_matches(self) -> bool:
        """Whether the shipped ANSWER_THRESHOLD is the calibrated one (to its rounding)."""
        return abs(self.shipped_threshold - self.calibrated[Method.HYBRID].threshold) < 0.005


def _pct(value: float) -> str:
    return f"{value:.3f}"


def quality_table(evaluation: Evaluation) -> str:
    """Ranking and decision metrics, per KB and method."""
    header = ["KB", "method", "top-1", "top-3", "MRR@10", *KINDS, "threshold", "answered precision"]
    header += ["answerable recall", "none rejected", "F1"]
    rows = []
    for kb, by_method in evaluation.results.items():
        for method, result in by_method.items():
            q, d = result.quality, result.decision
            kinds = [_pct(q.top1_by_kind[k]) if k in q.top1_by_kind else "-" for k in KINDS]
            # NaN: the CRM decided, with the threshold it ships.
            threshold = "CRM's" if math.isnan(d.threshold) else f"{d.threshold:.2f}"
            decision = [
                _pct(d.answered_precision),
                _pct(d.answerable_recall),
                _pct(d.none_rejected),
                _pct(d.f1),
            ]
            rows.append(
                [kb, method.value, _pct(q.top1), _pct(q.top3), _pct(q.mrr), *kinds, threshold, *decision]
            )
    return report.markdown_table(header, rows)


def curve_table(evaluation: Evaluation) -> str:
    """Per method, the lowest threshold reaching each share of rejected `none` questions."""
    header = ["method", "threshold", "none rejected", "answered precision", "answerable recall", "F1", ""]
    rows = []
    for method, curve in evaluation.curves.items():
        chosen = evaluation.calibrated[method]
        for point in sorted({*curve, chosen}, key=lambda d: d.threshold):
            rates = [_pct(point.none_rejected), _pct(point.answered_precision), _pct(point.answerable_recall)]
            mark = "**calibrated**" if point == chosen else ""
            rows.append([method.value, f"{point.threshold:.2f}", *rates, _pct(point.f1), mark])
    return report.markdown_table(header, rows)


def _ms(latency: Latency | None) -> str:
    return "-" if latency is None else f"{latency.p50_ms:.1f} / {latency.p95_ms:.1f}"


def latency_table(evaluation: Evaluation) -> str:
    """p50 / p95 per KB size and method, with what building and editing the KB costs."""
    builds = {b.articles: b for b in evaluation.builds}
    header = ["articles", f"{ENCODE_ONLY} ms", "BM25 ms", "dense ms", "hybrid ms"]
    header += ["tokenise s", "build s", "edit s"]
    rows = []
    for size, by_name in evaluation.latency.items():
        build = builds.get(size)
        costs = (
            ["-"] * 3
            if build is None
            else [f"{build.tokenise_s:.2f}", f"{build.snapshot_s:.2f}", f"{build.edit_s:.2f}"]
        )
        names = [ENCODE_ONLY, Method.BM25.value, Method.DENSE.value, Method.HYBRID.value]
        rows.append([f"{size:,}", *(_ms(by_name.get(n)) for n in names), *costs])
    return report.markdown_table(header, rows)


def encoder_table(evaluation: Evaluation) -> str:
    """Query encoding per encoder variant, as ratios to the torch baseline of the same run."""
    base = next((e for e in evaluation.encoders if e.name == BASELINE), None)
    header = ["encoder", "query p50 / p95 ms", "p50 / p95 vs torch", "batch texts/s", "vs torch"]
    header.append("max 1 - cosine to torch")
    rows = []
    for result in evaluation.encoders:
        ratios, batch = "-", "-"
        if base is not None:
            p50, p95 = result.query.p50_ms / base.query.p50_ms, result.query.p95_ms / base.query.p95_ms
            ratios = f"{p50:.2f} / {p95:.2f}"
            batch = f"{result.batch_texts_per_s / base.batch_texts_per_s:.2f}"
        cells = [result.name, _ms(result.query), ratios, f"{result.batch_texts_per_s:.0f}", batch]
        rows.append([*cells, f"{result.max_cosine_gap:.1e}"])
    return report.markdown_table(header, rows)


def http_table(evaluation: Evaluation) -> str:
    """The CRM's search over HTTP against its trivial endpoint, same server, same run."""
    rows = [[f"`{path}`", _ms(latency), str(latency.count)] for path, latency in evaluation.http.items()]
    return report.markdown_table(["endpoint", "p50 / p95 ms", "requests"], rows)


@dataclass(frozen=True, slots=True)
class Target:
    """One target: what is asked, what was measured, and whether it is met."""

    name: str
    measured: str
    met: bool


def _latency_targets(evaluation: Evaluation) -> list[Target]:
    found = []
    for size, limit in TARGET_P95_MS.items():
        measured = evaluation.latency.get(size, {}).get(Method.HYBRID.value)
        if measured is not None:
            name = f"hybrid p95 ≤ {limit:.0f} ms at {size:,} articles"
            found.append(Target(name, f"{measured.p95_ms:.1f} ms", measured.p95_ms <= limit))
    return found


def targets(evaluation: Evaluation) -> list[Target]:
    """The issue's targets, and whether the shipped threshold is the calibrated one."""
    ours = evaluation.results[OURS]
    hybrid = ours[Method.HYBRID]
    top1, rejected = hybrid.quality.top1, hybrid.decision.none_rejected
    margin = top1 - ours[Method.BM25].quality.top1
    calibrated = evaluation.calibrated[Method.HYBRID].threshold
    return [
        Target(f"hybrid top-1 ≥ {TARGET_TOP1:.2f} (ours, answerable)", _pct(top1), top1 >= TARGET_TOP1),
        Target(
            f"hybrid top-1 ≥ BM25's + {TARGET_MARGIN * 100:.0f} points",
            f"{margin * 100:+.1f} points",
            margin >= TARGET_MARGIN,
        ),
        Target(
            f"none rejected ≥ {MIN_NONE_REJECTION:.0%} (ours, shipped threshold)",
            _pct(rejected),
            rejected >= MIN_NONE_REJECTION,
        ),
        Target(
            "ANSWER_THRESHOLD is the calibrated value",
            f"{evaluation.shipped_threshold:.2f} vs {calibrated:.2f}",
            evaluation.threshold_matches,
        ),
        *_latency_targets(evaluation),
    ]


def targets_table(evaluation: Evaluation) -> str:
    """The targets as a Markdown table."""
    rows = [[t.name, t.measured, "met" if t.met else "**NOT met**"] for t in targets(evaluation)]
    return report.markdown_table(["target", "measured", ""], rows)


def _history_row(evaluation: Evaluation, commit: str, date: str, note: str) -> str:
    ours = evaluation.results[OURS]
    other = evaluation.results.get(OTHER, {}).get(Method.HYBRID)
    p95 = {size: evaluation.latency.get(size, {}).get(Method.HYBRID.value) for size in TARGET_P95_MS}
    cells = [
        date,
        commit,
        _pct(ours[Method.HYBRID].quality.top1),
        _pct(ours[Method.BM25].quality.top1),
        _pct(ours[Method.HYBRID].decision.none_rejected),
        "-" if other is None else _pct(other.quality.top1),
        f"{evaluation.shipped_threshold:.2f}",
        *("-" if p is None else f"{p.p95_ms:.1f}" for p in p95.values()),
        "met" if all(t.met for t in targets(evaluation)) else "not met",
        note,
    ]
    return "| " + " | ".join(cells) + " |"


def agreement_lines(agreement: Mapping[str, tuple[int, int]]) -> list[str]:
    """How often the CRM over HTTP agreed with the in-process index."""
    return [
        f"- {kb}: HTTP and in-process agree on top-1 and `answered` for {same}/{asked} questions"
        for kb, (same, asked) in agreement.items()
    ]


def record(
    evaluation: Evaluation, *, command_line: str, note: str, commit: str, setup: Sequence[str]
) -> None:
    """Rewrite the eval-faq section of docs/benchmarks.md, keeping its history and notes."""
    date = report.now()
    history = report.keep_history(report.history(NAME), _history_row(evaluation, commit, date, note))
    details = [f"- date: {date}", f"- commit: {commit}", f"- command: `{command_line}`"]
    details += [f"- machine: {report.machine()}", *setup, f"- run time: {evaluation.seconds:.0f} s"]
    if note:
        details.append(f"- note: {note}")
    newline = "\n"
    report.write_section(
        NAME,
        f"""## eval-faq: FAQ search quality, answer threshold and latency

`bench/faq_eval.py`. Quality on the labelled questions of `faq/eval/` (ours: 68 articles; the
other shop: a bicycle shop's 33 articles imported through the CRM's API, searched over HTTP,
with the weights and thresholds chosen on ours). top-1, top-3 and MRR@10 count answerable
questions; a search *answers* when its best score reaches the threshold; answered precision is
the share of answered questions (`none` ones included) whose first hit is right, answerable
recall the share of answerable questions answered with the right article. Each method's
threshold is calibrated on our labels: the best F1 among thresholds that reject ≥ 85% of the
`none` questions. Latency is `LiveIndex.search` (query encoding included) per question, methods
taken in turn for each question; synthetic KBs have random unit vectors (see
`bench/faq_latency.py`). The encoder runs on onnxruntime; its table compares session settings
with the torch forward pass it replaced (`bench/faq_encoders.py`).

### Latest run

{newline.join(details)}

#### Quality

{quality_table(evaluation)}

{newline.join(agreement_lines(evaluation.agreement))}

#### Threshold calibration (ours)

{curve_table(evaluation)}

#### Latency (p50 / p95)

{latency_table(evaluation)}

{http_table(evaluation)}

#### Query encoder (same questions, variants in turn; batch: the KB's phrasings)

{encoder_table(evaluation)}

#### Targets

{targets_table(evaluation)}

### History

{report.markdown_table(HISTORY_HEADER, [])}
{newline.join(history)}
""",
    )
    print(f"{NAME}: recorded in {report.BENCHMARKS_DOC.relative_to(report.REPO_ROOT)}")
