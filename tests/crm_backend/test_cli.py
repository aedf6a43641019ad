"""`python -m crm_backend`: a service that cannot start says why in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tests.crm_backend.conftest import SERVICE_TOKEN


def run_cli(repo_root, *args, **env):
    return subprocess.run(
        [sys.executable, "-m", "crm_backend", *args],
        cwd=repo_root,
        env={**os.environ, "CRM_SERVICE_TOKEN": SERVICE_TOKEN, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_port_in_use_is_one_line(repo_root, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            repo_root, "serve", "--port", str(port), CRM_DATABASE_URL=f"sqlite:///{tmp_path}/x.db"
        )
    assert result.returncode == 1
    assert result.stderr.strip() == f"crm: cannot start: port {port} on 127.0.0.1 is already in use"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql+nodriver://x/y", "bad database URL"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot reach the database"),
    ],
)
def test_bad_database_url_is_one_line(repo_root, url, reason):
    result = run_cli(repo_root, "check", CRM_DATABASE_URL=url)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert reason in result.stderr
    assert "Traceback" not in result.stderr


def test_placeholder_secret_in_production_is_one_line(repo_root):
    result = run_cli(repo_root, "check", CRM_ENVIRONMENT="production", CRM_SERVICE_TOKEN="dev-service-token")
    assert result.returncode == 1
    assert result.stderr.startswith("crm: cannot start: invalid settings:")
    assert "CRM_SERVICE_TOKEN" in result.stderr
