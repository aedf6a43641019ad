"""The stack launcher: configuration, and start-up failures reported in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from devstack.paths import REPO_ROOT
from devstack.services import ServiceFailed, free_port
from devstack.stack import Stack, StackConfig, rasa_redis_env


def test_redis_url_is_split_for_rasa():
    assert rasa_redis_env("redis://:s3cret@cache.internal:6390/2", "shop") == {
        "REDIS_HOST": "cache.internal",
        "REDIS_PORT": "6390",
        "REDIS_DB": "2",
        "REDIS_PASSWORD": "s3cret",
        "RASA_REDIS_KEY_PREFIX": "shop",
    }
    assert rasa_redis_env("redis://127.0.0.1", "x")["REDIS_DB"] == "0"


def test_missing_model_stops_before_anything_starts(tmp_path):
    stack = Stack(StackConfig(model_file=tmp_path / "absent.tar.gz", log_dir=tmp_path))
    with pytest.raises(ServiceFailed, match="no trained model"):
        stack.start()
    assert stack.services == []


def test_make_run_reports_a_taken_port_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "devstack.run"],
            cwd=REPO_ROOT,
            env={
                **os.environ,
                "CRM_PORT": str(port),
                "CRM_DATABASE_URL": f"sqlite:///{tmp_path}/crm.db",
                "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
                "ACTIONS_PORT": str(free_port()),
                "RASA_PORT": str(free_port()),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    assert result.stderr.strip() == f"run: crm: port {port} is already in use"
