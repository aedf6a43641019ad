"""bench/report.py's conventions for docs/benchmarks.md, for scripts that run on Python 3.10.

bench/report.py needs Python 3.11 (`datetime.UTC`) and `make eval-nlu` runs in the bot
environment (3.10), so the few helpers it uses are rewritten here, same behaviour: each
benchmark owns a section between `<!-- NAME:start -->` and `<!-- NAME:end -->`; a run rewrites
it, keeping its history rows (lines starting "| 20") and hand-written notes between
`<!-- NAME:notes -->` and `<!-- NAME:notes-end -->`.
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


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


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


def machine() -> str:
    """One line describing where the numbers come from: nproc, CPU model, Python, OS."""
    cpu = platform.processor() or "unknown"
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), cpu)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"nproc {cores}, {cpu}, Python {platform.python_version()}, {platform.system()}"


def now() -> str:
    """The current time in UTC, to the minute."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _section(name: str, doc: Path) -> str:
    match = re.search(rf"<!-- {name}:start -->(.*?)<!-- {name}:end -->", doc.read_text(), re.DOTALL)
    return match.group(1) if match else ""


def history(name: str, doc: Path = BENCHMARKS_DOC) -> list[str]:
    """The history rows already recorded in section `name`."""
    return [line for line in _section(name, doc).splitlines() if line.startswith("| 20")]


def keep_history(rows: list[str], new_row: str) -> list[str]:
    """The last HISTORY_ROWS rows with `new_row` appended."""
    return [*rows, new_row][-HISTORY_ROWS:]


def write_section(name: str, body: str, doc: Path = BENCHMARKS_DOC) -> None:
    """Replace section `name` of `doc` with `body` plus its kept notes, or append it."""
    notes = re.search(rf"<!-- {name}:notes -->.*?<!-- {name}:notes-end -->", _section(name, doc), re.DOTALL)
    block = f"<!-- {name}:start -->\n{body.strip()}\n" + (f"\n{notes.group(0)}\n" if notes else "")
    block += f"<!-- {name}:end -->"
    text = doc.read_text()
    pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + f"\n\n{block}\n"
    doc.write_text(text)
