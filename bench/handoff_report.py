"""bench-handoff's tables, targets and its section of docs/benchmarks.md."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench import report
from bench.handoff_metrics import PathResult, StoreCheck
from bench.handoff_paths import AGENT, CUSTOMER, PUBSUB, RASA

NAME = "bench-handoff"
TARGET_P95_MS = 300.0
LABELS = {
    AGENT: "agent reply → widget (ours: CRM `POST /api/handoffs/{id}/messages` → Rasa → socket.io)",
    RASA: "baseline: `bot` event posted straight to Rasa's tracker-events API → the same socket.io",
    CUSTOMER: "customer → console (ours: socket.io → Rasa → Redis stream → CRM store → pub/sub → /api/live)",
    PUBSUB: "baseline: Redis `PUBLISH` on the live channel → the same /api/live socket",
}
HISTORY_HEADER = (
    "date",
    "commit",
    "database",
    "agent → widget p50 / p95 ms",
    "customer → console p50 / p95 ms",
    "baselines p95 ms (Rasa API / pub/sub)",
    "lost / dup / disorder",
    "targets",
    "note",
)


@dataclass(frozen=True, slots=True)
class Run:
    """Everything one run measured, and how."""

    paths: dict[str, PathResult]
    store: StoreCheck
    agent_post_ms: tuple[float, ...]
    load: list[str]
    setup: list[str]
    seconds: float
    command_line: str
    commit: str
    database: str
    note: str

    def targets(self) -> list[tuple[str, str, bool]]:
        """(target, measured, met) for each of the issue's targets."""
        agent, customer = self.paths[AGENT], self.paths[CUSTOMER]
        lost = sum(p.lost for p in (agent, customer))
        duplicated = sum(p.duplicated for p in (agent, customer))
        disorder = sum(p.out_of_order for p in (agent, customer))
        refused = sum(p.send_errors for p in (agent, customer))
        return [
            (f"agent reply → widget p95 ≤ {TARGET_P95_MS:.0f} ms", _ms(agent.percentile(95)),
             agent.percentile(95) <= TARGET_P95_MS),
            (f"customer → console p95 ≤ {TARGET_P95_MS:.0f} ms", _ms(customer.percentile(95)),
             customer.percentile(95) <= TARGET_P95_MS),
            ("nothing lost on the way: every message arrives once, in order, both ways",
             f"{lost} lost, {duplicated} duplicated, {disorder} out of order, {refused} refused",
             agent.clean and customer.clean),
            ("nothing lost in the CRM: every message stored once, in order",
             f"{self.store.expected - self.store.missing}/{self.store.expected} stored, "
             f"{self.store.duplicated} duplicated, order {'kept' if self.store.in_order else 'BROKEN'}",
             self.store.clean),
        ]  # fmt: skip

    @property
    def met(self) -> bool:
        return all(met for _, _, met in self.targets())


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0f}"


def _mark(met: bool) -> str:
    return "met" if met else "**NOT met**"


def _ratio(ours: float, base: float) -> str:
    return f"{ours / base:.1f}×" if base and not math.isnan(base) and not math.isnan(ours) else "–"


def paths_table(paths: dict[str, PathResult]) -> str:
    """One row per path: latency percentiles and delivery counts."""
    header = ["path", "p50 ms", "p95 ms", "p99 ms", "max ms", "sent", "received", "lost", "dup", "disorder"]
    rows = []
    for name in (AGENT, RASA, CUSTOMER, PUBSUB):
        p = paths[name]
        rows.append(
            [
                LABELS[name],
                *(_ms(p.percentile(q)) for q in (50, 95, 99)),
                _ms(p.max_ms),
                str(p.sent),
                str(p.received),
                str(p.lost) + (f" (+{p.send_errors} refused)" if p.send_errors else ""),
                str(p.duplicated),
                str(p.out_of_order),
            ]
        )
    return report.markdown_table(header, rows)


def added_table(paths: dict[str, PathResult]) -> str:
    """What our pipeline adds over the bare transport at its end, per direction."""
    rows = []
    for ours, base, label in ((AGENT, RASA, "agent → widget"), (CUSTOMER, PUBSUB, "customer → console")):
        (o50, o95), (b50, b95) = ((paths[n].percentile(50), paths[n].percentile(95)) for n in (ours, base))
        rows.append(
            [label, f"+{_ms(o50 - b50)} / +{_ms(o95 - b95)}", f"{_ratio(o50, b50)} / {_ratio(o95, b95)}"]
        )
    return report.markdown_table(["direction", "added p50 / p95 ms", "ours ÷ baseline p50 / p95"], rows)


def targets_table(run: Run) -> str:
    """The issue's targets, what was measured, met or not."""
    rows = [[target, measured, _mark(met)] for target, measured, met in run.targets()]
    return report.markdown_table(["target", "measured", "verdict"], rows)


def agent_post_line(samples_ms: Sequence[float]) -> str:
    """The agent's own wait: how fast the reply POST answered."""
    if not samples_ms:
        return "- the agent's `POST /api/handoffs/{id}/messages`: no samples"
    p50, p95 = (float(np.percentile(samples_ms, q)) for q in (50, 95))
    return (
        f"- the agent's `POST /api/handoffs/{{id}}/messages` answered in p50 {p50:.0f} ms, p95 {p95:.0f} ms"
    )


def _history_row(run: Run, date: str) -> str:
    a, c, r, s = (run.paths[n] for n in (AGENT, CUSTOMER, RASA, PUBSUB))
    faults = " / ".join(
        str(x)
        for x in (
            a.lost + c.lost + run.store.missing,
            a.duplicated + c.duplicated + run.store.duplicated,
            a.out_of_order + c.out_of_order + (0 if run.store.in_order else 1),
        )
    )
    return (
        f"| {date} | {run.commit} | {run.database} | {_ms(a.percentile(50))} / {_ms(a.percentile(95))} | "
        f"{_ms(c.percentile(50))} / {_ms(c.percentile(95))} | "
        f"{_ms(r.percentile(95))} / {_ms(s.percentile(95))} | "
        f"{faults} | {'met' if run.met else 'not met'} | {run.note} |"
    )


def print_run(run: Run) -> None:
    """The tables and the verdict on stdout."""
    print(f"\n{paths_table(run.paths)}\n\n{added_table(run.paths)}\n\n{targets_table(run)}\n")
    print(agent_post_line(run.agent_post_ms))
    print(f"{NAME}: targets {'met' if run.met else 'NOT met'}; run time {run.seconds:.0f} s")


def record(run: Run) -> None:
    """Rewrite bench-handoff's section of docs/benchmarks.md, keeping its history and notes."""
    date = report.now()
    history = report.keep_history(report.history(NAME), _history_row(run, date))
    details = [f"- date: {date}", f"- commit: {run.commit}", f"- command: `{run.command_line}`"]
    details += [f"- machine: {report.machine()}", *run.setup, f"- run time: {run.seconds:.0f} s"]
    if run.note:
        details.append(f"- note: {run.note}")
    newline = "\n"
    report.write_section(
        NAME,
        f"""## bench-handoff: agent reply → widget and customer → console during a handoff

`bench/handoff.py`. The real stack, started once: several widget customers (python-socketio,
as the widget talks to Rasa's socket.io channel) ask for a person, an agent logs in, goes
online, claims every handoff and holds the console's /api/live WebSocket open. Then messages
go both ways on a fixed schedule (open loop: the next one does not wait for the last one's
arrival), from all conversations at once:

- **agent reply → widget**: from just before the agent's `POST /api/handoffs/{{id}}/messages`
  until the customer's socket gets `bot_uttered` with that text;
- **customer → console**: from just before the widget's `user_uttered` until the console's
  /api/live socket gets `message.created` with that text.

Baselines, measured in the same run over the same sockets, are the bare transport at each
path's far end: a `bot` event posted straight to Rasa's tracker-events API (what the CRM
posts; Rasa's tracker load and save and its socket.io emit) for the first, and a Redis
`PUBLISH` on the live channel forwarded by the same /api/live socket for the second. The
difference is what our pipeline adds: for agent replies, the CRM's work before it calls
Rasa (auth, the handoff check, the message flushed; the commit follows Rasa's answer) and that
HTTP call; for customer messages, Rasa's turn
(NLU, tracker, event broker), the Redis stream and the CRM consumer's store and commit.
Baseline and ours alternate per round. A message is lost if it had not arrived
when the phase's settle time ran out, duplicated if it arrived twice, out of order if it
arrived after a later message of its conversation. At the end every conversation's record
in the CRM (`GET /api/conversations/{{sender}}/messages`) must hold every agent and customer
message sent, once, in send order.

{newline.join(run.load)}
- targets (issue 7): p95 ≤ {TARGET_P95_MS:.0f} ms both ways on this machine, and nothing lost

### Latest run

{newline.join(details)}

{paths_table(run.paths)}

{added_table(run.paths)}

{agent_post_line(run.agent_post_ms)}

{targets_table(run)}

Result: targets **{"met" if run.met else "not met"}**.

### History

| {" | ".join(HISTORY_HEADER)} |
|{"---|" * len(HISTORY_HEADER)}
{newline.join(history)}
""",  # Markdown list items stay on one line
    )
    print(f"{NAME}: recorded in {report.BENCHMARKS_DOC.relative_to(report.REPO_ROOT)}")
