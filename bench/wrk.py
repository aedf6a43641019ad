"""Run `wrk` against a local URL and read back its numbers.

wrk (C, epoll) drives the load instead of a Python client: on a two-core machine a Python
load generator would take the CPU the server under test needs and flatten the numbers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SCRIPT = Path(__file__).with_name("wrk.lua")
# Load goes to this machine only.
ALLOWED_HOSTS = frozenset({"127.0.0.1", "localhost"})


class WrkError(Exception):
    """wrk is missing, failed, or printed no result."""


@dataclass(frozen=True, slots=True)
class Result:
    """One wrk run: throughput, latency percentiles and failures."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def combine(parts: list[Result]) -> Result:
    """Several runs of one endpoint as one: counts and time added, each percentile the worst run's.

    wrk reports percentiles, not its histogram, so they cannot be merged exactly; the
    slowest run's is the conservative choice for a latency target.
    """
    if not parts:
        raise ValueError("nothing to combine")
    return Result(
        requests=sum(p.requests for p in parts),
        seconds=sum(p.seconds for p in parts),
        p50_ms=max(p.p50_ms for p in parts),
        p95_ms=max(p.p95_ms for p in parts),
        p99_ms=max(p.p99_ms for p in parts),
        max_ms=max(p.max_ms for p in parts),
        errors=sum(p.errors for p in parts),
    )


def run(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int,
    token: str | None = None,
    bodies: Path | None = None,
    max_requests: int = 2_000_000,
) -> Result:
    """Load `url` for `seconds` over `connections` connections; POST random lines of `bodies` if given."""
    parts = urlsplit(url)
    if parts.hostname not in ALLOWED_HOSTS:
        raise WrkError(f"refusing to load {parts.hostname!r}: benchmarks only target this machine")
    wrk = shutil.which("wrk")
    if wrk is None:
        raise WrkError("wrk is not installed (Debian: apt-get install wrk)")
    env = {
        **os.environ,
        "BENCH_PATH": parts.path or "/",
        "BENCH_TOKEN": token or "",
        "BENCH_BODIES": str(bodies) if bodies else "",
        "BENCH_MAX_REQUESTS": str(max(1, max_requests // threads)),
    }
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={SCRIPT}",
        f"{parts.scheme}://{parts.netloc}",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise WrkError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    data = json.loads(line.removeprefix("BENCH "))
    errors = sum(
        data[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return Result(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        errors=errors,
    )
