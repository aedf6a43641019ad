"""The baseline: the project `rasa init` makes (the moodbot), trained once per Rasa version.

`rasa init --no-prompt` scaffolds the project and trains it in a temporary folder with the
bot environment; the folder then moves into ~/.cache/support-assistant/, keyed by the Rasa
version, so later runs serve it without retraining. It is served the way ours is: the same
entry point and flags, and our bot/endpoints.yml, so its conversations go through the same
Redis tracker store, lock store and event stream (under a key prefix of its own); `rasa
init`'s own endpoints.yml would keep them in process memory, which no production setup can
(one process, state lost on restart) and which would leave the Redis round trips out of the
baseline only. The moodbot calls no custom action. Its credentials.yml (the REST channel) is
its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from devstack.paths import BOT_DIR, BOT_PYTHON, MODEL_CACHE
from devstack.services import Service, http_ok

HOST = "127.0.0.1"
# Beside the bot's own models: MODEL_CACHE is ~/.cache/support-assistant/models.
BARE_CACHE = MODEL_CACHE.parent / "bare-rasa-init"
# Rasa and TensorFlow print pages of deprecation noise while training.
QUIET_ENV = {
    "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::PendingDeprecationWarning",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "RASA_TELEMETRY_ENABLED": "false",
}


class BareModelError(Exception):
    """The `rasa init` project could not be made or trained; the message ends with its output."""


def rasa_version() -> str:
    """The Rasa version installed in the bot environment (read from its metadata: no import)."""
    done = subprocess.run(
        [str(BOT_PYTHON), "-c", "import importlib.metadata as m; print(m.version('rasa'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def project_dir(version: str) -> Path:
    """Where the trained `rasa init` project of this Rasa version is kept."""
    return BARE_CACHE / f"rasa-{version}"


def trained_model(project: Path) -> Path | None:
    """The model `rasa init` trained in `project`, if there is one."""
    models = sorted((project / "models").glob("*.tar.gz"))
    return models[-1] if models else None


def ensure_project(version: str) -> Path:
    """The cached `rasa init` project with its trained model; made and trained on first use."""
    project = project_dir(version)
    if trained_model(project) is not None:
        return project
    BARE_CACHE.mkdir(parents=True, exist_ok=True)
    print(f"bench-bot: `rasa init --no-prompt` (Rasa {version}) and training the moodbot (once)", flush=True)
    started = time.monotonic()
    # Trained beside the cache, then renamed into place: an interrupted run leaves no half project.
    with tempfile.TemporaryDirectory(prefix="rasa-init-", dir=BARE_CACHE) as scratch:
        folder = Path(scratch) / "project"
        folder.mkdir()
        done = subprocess.run(
            [str(BOT_PYTHON), "-m", "rasa", "init", "--no-prompt", "--init-dir", str(folder)],
            cwd=folder,
            env={**os.environ, **QUIET_ENV},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode or trained_model(folder) is None:
            raise BareModelError(f"`rasa init --no-prompt` failed:\n{(done.stdout + done.stderr)[-3000:]}")
        shutil.rmtree(project, ignore_errors=True)
        folder.rename(project)
    print(f"bench-bot: moodbot trained in {time.monotonic() - started:.0f} s", flush=True)
    return project


def bare_service(project: Path, *, port: int, env: Mapping[str, str], log_dir: Path) -> Service:
    """`rasa run --enable-api` on the moodbot, with the entry point, flags and endpoints devstack gives ours.

    Both run through bot/rasa_server.py with bot/endpoints.yml, so they differ only in the model
    and its actions. `env` must set the variables endpoints.yml reads (devstack's
    `rasa_redis_env`, and `ACTION_ENDPOINT_URL`).
    """
    model = trained_model(project)
    if model is None:
        raise BareModelError(f"no trained model in {project}")
    command = [
        str(BOT_PYTHON), str(BOT_DIR / "rasa_server.py"), "run", "--enable-api", "--cors", "*",
        "--interface", HOST, "--port", str(port), "--model", str(model),
        "--endpoints", str(BOT_DIR / "endpoints.yml"), "--credentials", "credentials.yml",
    ]  # fmt: skip
    return Service(
        name="rasa-bare",
        command=command,
        cwd=project,
        env=dict(env),
        log_path=log_dir / "rasa-bare.log",
        health=http_ok(f"http://{HOST}:{port}/status"),
        port=port,
    )
