"""docs/benchmarks.md for `make eval-nlu`: bench/report.py's helpers, plus the measured commit."""

from __future__ import annotations

import os
import subprocess

from bench.report import (
    BENCHMARKS_DOC,
    REPO_ROOT,
    history,
    keep_history,
    machine,
    markdown_table,
    now,
    write_section,
)

__all__ = [
    "BENCHMARKS_DOC",
    "current_commit",
    "history",
    "keep_history",
    "machine",
    "markdown_table",
    "now",
    "write_section",
]


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
