"""One real stack per test session: CRM on PostgreSQL, action server, Rasa, real Redis."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis

from devstack.services import ServiceFailed, free_port
from devstack.stack import Stack, StackConfig
from tests.databases import temporary_postgres_database
from tests.e2e.fake_platforms import FakePlatforms, fake_platforms

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class RunningStack:
    config: StackConfig
    stack: Stack

    def rasa(self) -> httpx.Client:
        """A client of Rasa's HTTP API carrying this stack's token."""
        return httpx.Client(
            base_url=self.config.rasa_url, params={"token": self.config.rasa_token}, timeout=30
        )

    def crm(self) -> httpx.Client:
        """A CRM client carrying this stack's service token."""
        return httpx.Client(
            base_url=self.config.crm_url,
            headers={"Authorization": f"Bearer {self.config.service_token}"},
            timeout=10,
        )


@pytest.fixture(scope="session")
def platforms() -> Iterator[FakePlatforms]:
    """The social platforms' APIs (Messenger, Telegram, Twilio, Slack), faked on a local port."""
    yield from fake_platforms()


@pytest.fixture(scope="session")
def running_stack(
    tmp_path_factory: pytest.TempPathFactory, platforms: FakePlatforms
) -> Iterator[RunningStack]:
    """Start every service once per session on free ports; clean Redis and the database afterwards."""
    key_prefix = f"e2e{uuid.uuid4().hex[:10]}"
    with temporary_postgres_database("crm_e2e") as database_url:
        config = StackConfig(
            crm_port=free_port(),
            actions_port=free_port(),
            rasa_port=free_port(),
            database_url=database_url,
            redis_url=REDIS_URL,
            redis_key_prefix=key_prefix,
            service_token=secrets.token_urlsafe(24),
            rasa_token=secrets.token_urlsafe(24),
            log_dir=tmp_path_factory.mktemp("stack-logs"),
            # Every social connector on, with fake credentials, replying to the fake APIs.
            extra_env=platforms.environment(),
        )
        stack = Stack(config)
        try:
            stack.start()
        except ServiceFailed as exc:
            pytest.fail(f"the stack did not start: {exc}")
        try:
            yield RunningStack(config, stack)
        finally:
            stack.stop()
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(match=f"{key_prefix}:*"):
                client.delete(key)
            client.close()


class Customer:
    """A customer talking to the bot over Rasa's REST channel."""

    def __init__(self, rasa_url: str) -> None:
        self.sender = f"e2e-{uuid.uuid4().hex[:12]}"
        self._http = httpx.Client(base_url=rasa_url, timeout=30)

    def say(self, text: str) -> list[str]:
        """Send one message and return the texts of the bot's replies."""
        response = self._http.post("/webhooks/rest/webhook", json={"sender": self.sender, "message": text})
        response.raise_for_status()
        replies: list[dict[str, Any]] = response.json()
        return [reply["text"] for reply in replies if "text" in reply]


@pytest.fixture
def customer(running_stack: RunningStack) -> Iterator[Customer]:
    customer = Customer(running_stack.config.rasa_url)
    yield customer
    customer._http.close()
