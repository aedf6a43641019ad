"""Serve an ASGI app with uvicorn in its own process group, for a benchmark to load."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from bench.report import REPO_ROOT

HOST = "127.0.0.1"


class ServerError(Exception):
    """The server exited or never answered; the message ends with its log."""


def free_port() -> int:
    """A TCP port on HOST that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def describe(workers: int) -> str:
    """The settings every endpoint of the run shares, for the record."""
    # uvicorn's "auto" loop and HTTP parser pick these when they are installed.
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"uvicorn {uvicorn.__version__}, {workers} worker{'s' if workers > 1 else ''}, {loop}, {http}"


def command(app_factory: str, *, port: int, workers: int) -> list[str]:
    """The uvicorn command line: production's defaults, no access log."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app_factory,
        "--factory",
        f"--host={HOST}",
        f"--port={port}",
        f"--workers={workers}",
        "--no-access-log",
        "--log-level=warning",
    ]


def _wait_until_live(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"the server exited ({process.returncode}):\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310  # our own http://127.0.0.1 URL
                return
        except OSError:
            time.sleep(0.2)
    raise ServerError(f"the server did not answer within {timeout:.0f} s:\n{log.read_text()[-2000:]}")


@contextmanager
def serve(
    app_factory: str,
    *,
    env: Mapping[str, str],
    workers: int,
    live_path: str,
    log: Path,
    timeout: float = 60,
) -> Iterator[str]:
    """Start `app_factory` under uvicorn; yield its base URL once `live_path` answers, then stop it."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            command(app_factory, port=port, workers=workers),
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://{HOST}:{port}"
    try:
        _wait_until_live(base + live_path, process, log, timeout)
        yield base
    finally:
        # Its own session: the group holds uvicorn's workers and nothing else.
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
