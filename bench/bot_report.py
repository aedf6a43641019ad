"""bench-bot's tables, verdict and its section of docs/benchmarks.md."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench import report
from bench.bot_breakdown import PartTiming
from bench.bot_load import LevelResult

NAME = "bench-bot"
TARGET_THROUGHPUT_RATIO = 0.8
TARGET_P50_RATIO = 1.3
HISTORY_HEADER = (
    "date",
    "commit",
    "database",
    "c=1 tput / p50 ratio",
    "c=10 tput / p50 ratio",
    "c=20 tput / p50 ratio",
    "targets",
    "note",
)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Ours against the bare model at one concurrency."""

    concurrency: int
    bare: LevelResult
    ours: LevelResult

    @property
    def throughput_ratio(self) -> float:
        return self.ours.throughput / self.bare.throughput if self.bare.throughput else math.nan

    @property
    def p50_ratio(self) -> float:
        return self.ours.percentile(50) / self.bare.percentile(50)

    @property
    def throughput_met(self) -> bool:
        return self.throughput_ratio >= TARGET_THROUGHPUT_RATIO

    @property
    def p50_met(self) -> bool:
        return self.p50_ratio <= TARGET_P50_RATIO

    @property
    def errors(self) -> int:
        return self.bare.errors + self.ours.errors


@dataclass(frozen=True, slots=True)
class Run:
    """Everything one run measured, and how."""

    comparisons: list[Comparison]
    parts: list[PartTiming]
    setup: list[str]
    seconds: float
    command_line: str
    commit: str
    database: str
    note: str

    @property
    def met(self) -> bool:
        """Both targets at every concurrency, with no failed turn."""
        return all(c.throughput_met and c.p50_met and not c.errors for c in self.comparisons)


def _mark(met: bool) -> str:
    return "met" if met else "**NOT met**"


def results_table(comparisons: Sequence[Comparison]) -> str:
    """One row per concurrency: both servers' p50/p95/throughput, the ratios and the verdicts."""
    header = [
        "concurrency",
        "bare p50 / p95 ms",
        "bare turns/s",
        "ours p50 / p95 ms",
        "ours turns/s",
        f"throughput ratio (≥ {TARGET_THROUGHPUT_RATIO})",
        f"p50 ratio (≤ {TARGET_P50_RATIO})",
        "turns (bare / ours)",
        "errors (bare / ours)",
    ]
    rows = []
    for c in comparisons:
        rows.append(
            [
                # Not a bare number: the history keeps rows starting "| 20" (a date).
                f"c={c.concurrency}",
                f"{c.bare.percentile(50):.0f} / {c.bare.percentile(95):.0f}",
                f"{c.bare.throughput:.1f}",
                f"{c.ours.percentile(50):.0f} / {c.ours.percentile(95):.0f}",
                f"{c.ours.throughput:.1f}",
                f"{c.throughput_ratio:.2f} {_mark(c.throughput_met)}",
                f"{c.p50_ratio:.2f} {_mark(c.p50_met)}",
                f"{c.bare.turns} / {c.ours.turns}",
                f"{c.bare.errors} / {c.ours.errors}",
            ]
        )
    return report.markdown_table(header, rows)


def parts_table(parts: Sequence[PartTiming]) -> str:
    """One row per part of the turn, timed alone."""
    rows = [[p.name, f"{p.p50_ms:.1f}", f"{p.p95_ms:.1f}", str(p.calls)] for p in parts]
    return report.markdown_table(["part, called alone in sequence", "p50 ms", "p95 ms", "calls"], rows)


def error_lines(comparisons: Sequence[Comparison]) -> list[str]:
    """A few failed turns per server and level, to show what went wrong."""
    lines = []
    for c in comparisons:
        for name, result in (("bare", c.bare), ("ours", c.ours)):
            lines += [f"- {name} c={c.concurrency}: {sample}" for sample in result.error_samples]
    return lines


def verdict(run: Run) -> str:
    """One sentence: the targets and whether every level met them."""
    errors = sum(c.errors for c in run.comparisons)
    failed = f"; {errors} turns failed" if errors else ""
    return (
        f"targets (throughput ≥ {TARGET_THROUGHPUT_RATIO}× the bare model's, p50 ≤ {TARGET_P50_RATIO}× "
        f"its p50, at every concurrency): **{'met' if run.met else 'not met'}**{failed}"
    )


def _history_row(run: Run, date: str) -> str:
    ratios = " | ".join(f"{c.throughput_ratio:.2f} / {c.p50_ratio:.2f}" for c in run.comparisons)
    verdict_word = "met" if run.met else "not met"
    return f"| {date} | {run.commit} | {run.database} | {ratios} | {verdict_word} | {run.note} |"


def record(run: Run, *, levels: Mapping[str, str]) -> None:
    """Rewrite bench-bot's section of docs/benchmarks.md, keeping its history and notes."""
    date = report.now()
    history = report.keep_history(report.history(NAME), _history_row(run, date))
    details = [f"- date: {date}", f"- commit: {run.commit}", f"- command: `{run.command_line}`"]
    details += [f"- machine: {report.machine()}", *run.setup, f"- run time: {run.seconds:.0f} s"]
    if run.note:
        details.append(f"- note: {run.note}")
    load = "; ".join(f"{key}: {value}" for key, value in levels.items())
    newline = "\n"
    parts = f"#### Parts of our turn\n\n{parts_table(run.parts)}\n" if run.parts else ""
    report.write_section(
        NAME,
        f"""## bench-bot: an order-status turn against a bare `rasa init` model

`bench/bot_turns.py`. Turn latency and throughput over Rasa's REST channel
(`POST /webhooks/rest/webhook`) for our assistant's order-status turn (one message with the
order number and the email: NLU, policies, the order form and its validation on the action
server, the order action, their CRM lookups, Redis tracker and lock stores) against the
moodbot that `rasa init` makes, served the same way (same entry point and flags, one Sanic
worker each, same log level, and the same endpoints.yml: Redis tracker store, lock store and
event stream, each server under its own key prefix; since the 2026-12-02 05:46 run, before which the
moodbot kept its own in-memory stores), measured in the same run. Every turn
opens a new conversation; a turn counts only if its reply is the expected one (the order's
status naming the order number; the moodbot's greeting).

- load: {load}
- targets: throughput ≥ {TARGET_THROUGHPUT_RATIO}× the bare model's and p50 ≤ {TARGET_P50_RATIO}× its p50, at each concurrency

### Latest run

{newline.join(details)}

{results_table(run.comparisons)}

Result: {verdict(run)}.

{parts}
### History

Ratios are ours / bare: throughput, then p50.

{report.markdown_table(HISTORY_HEADER, [])}
{newline.join(history)}
""",  # noqa: E501  # Markdown list items stay on one line
    )
    print(f"{NAME}: recorded in {report.BENCHMARKS_DOC.relative_to(report.REPO_ROOT)}")
