"""Record a benchmark's results in docs/benchmarks.md, one section per benchmark.

Each section sits between `<!-- NAME:start -->` and `<!-- NAME:end -->`; a run rewrites its
own section and leaves the others alone. Two parts survive a rewrite: the rows of the
section's history table (lines starting with "| 20", a date), newest last, and hand-written
findings between `<!-- NAME:notes -->` and `<!-- NAME:notes-end -->`.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_DOC = REPO_ROOT / "docs" / "benchmarks.md"
HISTORY_ROWS = 20
_HEADER = """# Benchmarks

Benchmark scripts (`make bench-*`) print their numbers and record them here: one section per
benchmark, rewritten by its script, each with the date, the command and the machine. This
machine is shared and noisy, so every benchmark compares against a baseline measured in the
same run and judges the ratio, not the absolute numbers.
"""


def cpu_model() -> str:
    """The CPU's model name as the kernel reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    """One line describing where the numbers come from: nproc and CPU model."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"nproc {cores}, {cpu_model()}, Python {platform.python_version()}, {platform.system()}"


def now() -> str:
    """The current time in UTC, to the minute."""
    # timezone.utc, not datetime.UTC: `make eval-nlu` imports this module on Python 3.10.
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def _section(name: str, doc: Path) -> str:
    start, end = _markers(name)
    text = doc.read_text() if doc.exists() else ""
    match = re.search(re.escape(start) + r"(.*?)" + re.escape(end), text, re.DOTALL)
    return match.group(1) if match else ""


def history(name: str, doc: Path = BENCHMARKS_DOC) -> list[str]:
    """The history rows already recorded in section `name`."""
    return [line for line in _section(name, doc).splitlines() if line.startswith("| 20")]


def notes(name: str, doc: Path = BENCHMARKS_DOC) -> str:
    """The hand-written findings block of section `name`, markers included, or ""."""
    match = re.search(rf"<!-- {name}:notes -->.*?<!-- {name}:notes-end -->", _section(name, doc), re.DOTALL)
    return match.group(0) if match else ""


def write_section(name: str, body: str, doc: Path = BENCHMARKS_DOC) -> None:
    """Replace section `name` of the benchmarks document with `body` plus its kept notes, or append it."""
    start, end = _markers(name)
    kept = notes(name, doc)
    block = f"{start}\n{body.strip()}\n" + (f"\n{kept}\n" if kept else "") + end
    text = doc.read_text() if doc.exists() else _HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def keep_history(rows: list[str], new_row: str) -> list[str]:
    """The last HISTORY_ROWS rows with `new_row` appended."""
    return [*rows, new_row][-HISTORY_ROWS:]


def current_commit() -> str:
    """The checked-out commit, marked when the work tree has changes: what was measured."""

    def git(*args: str) -> str:
        # Read-only: no optional lock, so a concurrent commit never finds the index locked.
        env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
        done = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head}+changes" if git("status", "--porcelain", "--untracked-files=no") else head
