"""A platform without credentials is off: the connectors load, say so once, and answer 503.

The connectors run in the bot environment behind a bare Sanic app (Rasa's own channel
registration, no model): an off channel has nothing to hand to the bot.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.paths import BOT_DIR, BOT_PYTHON
from devstack.services import Service, free_port, http_ok
from tests.e2e.fake_platforms import FACEBOOK, SLACK, TELEGRAM, TWILIO

SERVE_CONNECTORS = """
import logging
import sys
from rasa.core.channels.channel import register
from sanic import Sanic, response
from channels.facebook import MessengerChannel
from channels.slack import SlackChannel
from channels.telegram import TelegramChannel
from channels.twilio import WhatsAppChannel

logging.basicConfig(level=logging.INFO)  # as `rasa run` logs
app = Sanic("channels_off")
app.ctx.agent = None  # an off channel never hands a message on
register([c.from_credentials(None) for c in (MessengerChannel, TelegramChannel, WhatsAppChannel, SlackChannel)],
         app, route="/webhooks/")
app.add_route(lambda request: response.json({"status": "ok"}), "/")
app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
"""


@pytest.fixture(scope="module")
def connectors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The four connectors with no credentials at all (and Messenger with one missing)."""
    port = free_port()
    unset = {name: "" for name in {**FACEBOOK, **TELEGRAM, **TWILIO, **SLACK}}
    log = tmp_path_factory.mktemp("channels-off") / "connectors.log"
    service = Service(
        name="connectors",
        command=[str(BOT_PYTHON), "-c", SERVE_CONNECTORS, str(port)],
        cwd=BOT_DIR,
        env={**unset, "FACEBOOK_VERIFY_TOKEN": "set-but-alone", "PYTHONUNBUFFERED": "1"},
        log_path=log,
        health=http_ok(f"http://127.0.0.1:{port}/"),
        port=port,
    )
    service.start()
    try:
        service.wait_healthy(60)
        yield f"http://127.0.0.1:{port}", log
    finally:
        service.stop()


@pytest.mark.parametrize("name", ["facebook", "telegram", "twilio", "slack"])
def test_an_off_channel_answers_503_with_the_missing_variables(connectors: tuple[str, Path], name: str):
    url, _ = connectors

    response = httpx.post(f"{url}/webhooks/{name}/webhook", json={"object": "page"})

    assert response.status_code == 503
    assert response.json()["error"] == "channel_off"
    assert "not set" in response.json()["detail"]


def test_each_off_channel_logs_one_line_saying_why(connectors: tuple[str, Path]):
    _, log = connectors
    lines = [line for line in log.read_text().splitlines() if ": off (" in line]

    assert len(lines) == 4
    assert any(
        "messenger: off (FACEBOOK_APP_SECRET, FACEBOOK_PAGE_ACCESS_TOKEN not set)" in line for line in lines
    )
    assert any("telegram: off (TELEGRAM_ACCESS_TOKEN not set)" in line for line in lines)
    assert any(
        "whatsapp: off (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER not set)" in line
        for line in lines
    )
    assert any("slack: off (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET not set)" in line for line in lines)
