"""The stack launcher: configuration, and start-up failures reported in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from devstack.paths import BOT_PYTHON, REPO_ROOT
from devstack.services import ServiceFailed, free_port
from devstack.stack import Stack, StackConfig, rasa_command, rasa_redis_env


def test_redis_url_is_split_for_rasa():
    assert rasa_redis_env("redis://:s3cret@cache.internal:6390/2", "shop") == {
        "REDIS_HOST": "cache.internal",
        "REDIS_PORT": "6390",
        "REDIS_DB": "2",
        "REDIS_PASSWORD": "s3cret",
        "RASA_REDIS_KEY_PREFIX": "shop",
    }
    assert rasa_redis_env("redis://127.0.0.1", "x")["REDIS_DB"] == "0"


@pytest.mark.parametrize("token", ["-Xq3_token-that-starts-with-a-dash", "plain_token"])
def test_rasas_own_parser_reads_the_token_even_when_it_starts_with_a_dash(tmp_path, token):
    # secrets.token_urlsafe starts with "-" once in 64 tokens; Rasa then refused to start.
    argv = rasa_command(StackConfig(rasa_token=token, rasa_port=5999), tmp_path / "model.tar.gz")
    parse = (
        "import sys; from rasa.__main__ import create_argument_parser; "
        "args = create_argument_parser().parse_args(sys.argv[1:]); print(args.auth_token, args.port)"
    )
    done = subprocess.run(
        [str(BOT_PYTHON), "-c", parse, *argv[1:]], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == [token, "5999"]


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
