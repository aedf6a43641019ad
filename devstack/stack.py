"""The whole stack: Redis (when none is configured), CRM, action server and Rasa."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from devstack import model
from devstack.paths import BOT_DIR, BOT_PYTHON, CRM_PYTHON, DATA_DIR, REPO_ROOT
from devstack.services import Service, ServiceFailed, http_ok, last_log_line, redis_ping

HOST = "127.0.0.1"
# Development only: `make run` and the tests sign demo customer tokens with it.
DEV_WIDGET_TOKEN_SECRET = "dev-widget-token-secret-change-me-in-production"


@dataclass
class StackConfig:
    """Ports, stores and secrets for one running stack."""

    crm_port: int = 8000
    actions_port: int = 5055
    rasa_port: int = 5005
    database_url: str = f"sqlite:///{DATA_DIR / 'crm.db'}"
    # None: start an embedded redis-server on `embedded_redis_port`.
    redis_url: str | None = None
    embedded_redis_port: int = 6380
    # Keeps this stack's Rasa keys apart from others sharing the Redis (alphanumeric only).
    redis_key_prefix: str = "shopbot"
    service_token: str = "dev-service-token"
    # Rasa's HTTP API runs with --auth-token: only the CRM (agent replies) may push events.
    rasa_token: str = "dev-rasa-token"
    # Signs the website's customer tokens (the CRM's demo sign-in) and checks them (actions).
    widget_token_secret: str = DEV_WIDGET_TOKEN_SECRET
    # The Rasa URL as browsers reach it (the demo page's widget); None: `rasa_url`.
    public_rasa_url: str | None = None
    log_dir: Path = DATA_DIR / "logs"
    seed_demo_data: bool = True
    # None: the model trained for the current bot/ inputs.
    model_file: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> StackConfig:
        """The `make run` configuration: defaults overridden by the environment (.env)."""
        env = os.environ
        config = cls(
            crm_port=int(env.get("CRM_PORT", 8000)),
            actions_port=int(env.get("ACTIONS_PORT", 5055)),
            rasa_port=int(env.get("RASA_PORT", 5005)),
            redis_url=env.get("REDIS_URL") or None,
            redis_key_prefix=env.get("RASA_REDIS_KEY_PREFIX", "shopbot"),
            service_token=env.get("CRM_SERVICE_TOKEN", "dev-service-token"),
            rasa_token=env.get("CRM_RASA_TOKEN") or "dev-rasa-token",
            widget_token_secret=env.get("WIDGET_TOKEN_SECRET") or DEV_WIDGET_TOKEN_SECRET,
            public_rasa_url=env.get("CRM_PUBLIC_RASA_URL") or None,
        )
        if env.get("CRM_DATABASE_URL"):
            config.database_url = env["CRM_DATABASE_URL"]
        return config

    @property
    def crm_url(self) -> str:
        return f"http://{HOST}:{self.crm_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{HOST}:{self.actions_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{HOST}:{self.rasa_port}"


def rasa_command(config: StackConfig, model_file: Path) -> list[str]:
    """The arguments after `python -m`: bot/rasa_server.py (`rasa` with its speed fixes) serving the model."""
    return [
        "rasa_server", "run", "--enable-api", "--cors", "*",
        "--interface", HOST, "--port", str(config.rasa_port), "--model", str(model_file),
        "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
        # One argument with "=": a generated token may start with "-", which argparse would
        # otherwise take for an option ("--auth-token: expected one argument").
        f"--auth-token={config.rasa_token}",
    ]  # fmt: skip


def rasa_redis_env(redis_url: str, key_prefix: str) -> dict[str, str]:
    """Split a redis:// URL into the variables bot/endpoints.yml reads."""
    parts = urlsplit(redis_url)
    database = parts.path.lstrip("/") or "0"
    return {
        "REDIS_HOST": parts.hostname or HOST,
        "REDIS_PORT": str(parts.port or 6379),
        "REDIS_DB": database,
        "REDIS_PASSWORD": parts.password or "",
        "RASA_REDIS_KEY_PREFIX": key_prefix,
    }


class Stack:
    """Starts the services in dependency order and stops them in reverse."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.services: list[Service] = []
        self.redis_url = config.redis_url

    def _common_env(self) -> dict[str, str]:
        return {
            "CRM_DATABASE_URL": self.config.database_url,
            "CRM_SERVICE_TOKEN": self.config.service_token,
            "CRM_URL": self.config.crm_url,
            "REDIS_URL": self.redis_url or "",
            # The conversation pipeline (crm_backend/events): Rasa's event stream into the CRM,
            # live updates to consoles, and agent replies back through Rasa's API.
            "CRM_REDIS_URL": self.redis_url or "",
            "CRM_EVENT_STREAM": f"{self.config.redis_key_prefix}:events",
            "CRM_LIVE_CHANNEL": f"{self.config.redis_key_prefix}:live",
            "CRM_RASA_URL": self.config.rasa_url,
            "CRM_RASA_TOKEN": self.config.rasa_token,
            # The demo page's widget talks to this Rasa; both sides share the token secret.
            "CRM_PUBLIC_RASA_URL": self.config.public_rasa_url or self.config.rasa_url,
            "WIDGET_TOKEN_SECRET": self.config.widget_token_secret,
            # No phoning home from Rasa, and quiet TensorFlow logs.
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
            **self.config.extra_env,
        }

    def _run_crm_command(self, *args: str) -> None:
        result = subprocess.run(
            [str(CRM_PYTHON), "-m", "crm_backend", *args],
            cwd=REPO_ROOT,
            env={**os.environ, **self._common_env()},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise ServiceFailed(f"crm {args[0]}: {reason}")

    def _python_service(
        self,
        name: str,
        python: Path,
        module_args: list[str],
        env: dict[str, str],
        port: int,
        health_path: str,
        cwd: Path = REPO_ROOT,
    ) -> Service:
        """A `python -m ...` service of one of the two environments, healthy when `health_path` answers."""
        return Service(
            name=name,
            command=[str(python), "-m", *module_args],
            cwd=cwd,
            env=env,
            log_path=self.config.log_dir / f"{name}.log",
            health=http_ok(f"http://{HOST}:{port}{health_path}"),
            port=port,
        )

    def _start(self, service: Service, timeout: float) -> None:
        self.services.append(service)
        service.start()
        service.wait_healthy(timeout)

    def _embedded_redis(self) -> Service:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceFailed(
                "redis: REDIS_URL is not set and no redis-server is installed (make setup installs it)"
            )
        port = self.config.embedded_redis_port
        redis_dir = DATA_DIR / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        return Service(
            name="redis",
            command=[
                binary,
                "--port",
                str(port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(redis_dir),
            ],
            cwd=REPO_ROOT,
            log_path=self.config.log_dir / "redis.log",
            health=redis_ping(HOST, port),
            port=port,
        )

    def start(self) -> None:
        """Bring every service up and healthy, or raise ServiceFailed (after stopping the rest)."""
        config = self.config
        try:
            model_file = config.model_file or model.model_path()
            if not model_file.exists():
                raise ServiceFailed(
                    f"rasa: no trained model for the current bot data ({model_file.name}); run make setup"
                )
            if self.redis_url is None:
                redis = self._embedded_redis()
                self._start(redis, timeout=10)
                self.redis_url = f"redis://{HOST}:{redis.port}/0"
            self._run_crm_command("migrate")
            if config.seed_demo_data:
                self._run_crm_command("seed")
            env = self._common_env()
            crm_args = ["crm_backend", "serve", "--host", HOST, "--port", str(config.crm_port)]
            self._start(
                # Ready once the FAQ index is built: the model loads and new articles are
                # encoded at start-up (a minute on a busy 2-core machine, seconds afterwards).
                self._python_service("crm", CRM_PYTHON, crm_args, env, config.crm_port, "/readyz"),
                240,
            )
            actions_args = ["rasa_sdk", "--actions", "actions", "--port", str(config.actions_port)]
            # The action server keeps tickets the CRM can't take in Redis (actions/outbox.py).
            actions_env = {**env, "ACTIONS_REDIS_KEY_PREFIX": config.redis_key_prefix}
            self._start(
                self._python_service(
                    "actions", BOT_PYTHON, actions_args, actions_env, config.actions_port, "/health"
                ),
                60,
            )
            rasa_env = {
                **env,
                **rasa_redis_env(self.redis_url, config.redis_key_prefix),
                "ACTION_ENDPOINT_URL": f"{config.actions_url}/webhook",
            }
            rasa_args = rasa_command(config, model_file)
            # Loading the TensorFlow model takes most of a minute on two cores.
            # /status needs the token too: ready means the model is loaded.
            health = f"/status?token={quote(config.rasa_token)}"
            rasa = self._python_service(
                "rasa", BOT_PYTHON, rasa_args, rasa_env, config.rasa_port, health, BOT_DIR
            )
            self._start(rasa, timeout=180)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every started service, newest first."""
        for service in reversed(self.services):
            service.stop()
        self.services.clear()

    def logs_tail(self) -> str:
        """One line per service, for test failure reports."""
        return "\n".join(f"{s.name}: {last_log_line(s.log_path)}" for s in self.services)
