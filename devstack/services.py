"""One supervised child process: start it, wait until it is healthy, stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HealthCheck = Callable[[], bool]


class ServiceFailed(Exception):
    """A service could not start; the message is one line for the operator."""


def http_ok(url: str) -> HealthCheck:
    """A health check that passes when `url` answers 2xx."""

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own http:// URLs)
                status: int = response.status
                return 200 <= status < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False

    return check


def redis_ping(host: str, port: int) -> HealthCheck:
    """A health check that passes when Redis answers PING."""

    def check() -> bool:
        try:
            with socket.create_connection((host, port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    return check


def port_is_free(host: str, port: int) -> bool:
    """True if nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS considers free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def last_log_line(path: Path) -> str:
    """The last line of a log worth showing: errors first, else the final line."""
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except FileNotFoundError:
        return "(no log)"
    for line in reversed(lines):
        if any(word in line for word in ("Error", "error:", "cannot start", "Exception")):
            return line[:300]
    return lines[-1][:300] if lines else "(empty log)"


@dataclass
class Service:
    """A named child process with its command, environment, log and health check."""

    name: str
    command: list[str]
    cwd: Path
    log_path: Path
    health: HealthCheck
    port: int
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Launch the process in its own session, so Ctrl-C reaches only the supervisor."""
        if not port_is_free("127.0.0.1", self.port):
            raise ServiceFailed(f"{self.name}: port {self.port} is already in use")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_healthy(self, timeout: float) -> None:
        """Block until the health check passes; fail with the log's last words."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                reason = last_log_line(self.log_path)
                raise ServiceFailed(f"{self.name} exited with status {self.process.returncode}: {reason}")
            if self.health():
                return
            time.sleep(0.25)
        raise ServiceFailed(f"{self.name} not healthy after {timeout:.0f} s: {last_log_line(self.log_path)}")

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass
