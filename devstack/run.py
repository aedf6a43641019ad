"""`make run`: start the stack on embedded defaults, print the URLs, stop cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from devstack.paths import REPO_ROOT
from devstack.services import ServiceFailed
from devstack.stack import Stack, StackConfig


def _raise_keyboard_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def load_env_file(path: Path) -> None:
    """Export KEY=VALUE lines of a .env file, without overriding the real environment."""
    if not path.exists():
        return
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


def main() -> int:
    """Run until interrupted; exit 1 with a one-line reason if a service cannot start."""
    load_env_file(REPO_ROOT / ".env")
    # Ctrl-C's SIGINT and a SIGTERM both mean "stop everything". Installing the handler
    # explicitly also covers shells that start background jobs with SIGINT ignored.
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    config = StackConfig.from_environment()
    stack = Stack(config)
    print("Starting the stack (Rasa takes about a minute to load its model)...", flush=True)
    try:
        stack.start()
        redis_note = "embedded redis-server" if config.redis_url is None else "external"
        print(
            "\nEverything is up:\n"
            f"  Demo shop      {config.crm_url}/demo   (the chat widget)\n"
            f"  Agent console  {config.crm_url}/console   (agent@example.com / agent-demo-password)\n"
            f"  CRM API        {config.crm_url}/docs\n"
            f"  Rasa (REST)    {config.rasa_url}/webhooks/rest/webhook\n"
            f"  Rasa socket.io {config.rasa_url}/socket.io\n"
            f"  Action server  {config.actions_url}/health\n"
            f"  Redis          {stack.redis_url} ({redis_note})\n"
            f"  Logs           {config.log_dir}/\n"
            "\nTry it:\n"
            f"  curl -s {config.rasa_url}/webhooks/rest/webhook -H 'Content-Type: application/json' \\\n"
            '       -d \'{"sender": "demo", "message": "where is my order?"}\'\n'
            "\nPress Ctrl-C to stop.",
            flush=True,
        )
        while True:
            for service in stack.services:
                if service.process is not None and service.process.poll() is not None:
                    raise ServiceFailed(
                        f"{service.name} stopped unexpectedly (status {service.process.returncode})"
                    )
            time.sleep(1)
    except ServiceFailed as exc:
        print(f"run: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        stack.stop()
        print("Stopped.")
        return 0


if __name__ == "__main__":
    sys.exit(main())
