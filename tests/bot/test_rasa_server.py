"""bot/rasa_server.py: the posted-events check built once answers exactly as Rasa's own."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import rasa.server

from bot import rasa_server

RASA_CHECK = rasa.server.validate_events_in_request_body
AGENT_LINE = {"event": "bot", "text": "Hi, Alex here", "timestamp": 1.0, "metadata": {"crm_event_id": "e1"}}


@pytest.fixture
def installed() -> Iterator[None]:
    original_action_check = rasa_server.RemoteAction._validate_action_result
    rasa_server.install()
    yield
    rasa.server.validate_events_in_request_body = RASA_CHECK
    rasa_server.RemoteAction._validate_action_result = original_action_check


def _request(body: Any) -> Any:
    return SimpleNamespace(json=body)


def _refusal(check: Any, body: Any) -> tuple[int, str]:
    with pytest.raises(rasa.server.ErrorResponse) as refused:
        check(_request(body))
    return refused.value.status, refused.value.error_info["message"]


@pytest.mark.usefixtures("installed")
def test_the_routes_use_the_check_built_once_and_valid_events_pass():
    assert rasa.server.validate_events_in_request_body is rasa_server._validate_events_in_request_body

    rasa.server.validate_events_in_request_body(_request([AGENT_LINE]))
    rasa.server.validate_events_in_request_body(_request(AGENT_LINE))  # a single event, as Rasa allows


@pytest.mark.parametrize(
    "body",
    [
        [{"event": 7}],
        [{"event": "bot", "timestamp": "yesterday"}],
        [{"text": "no event type"}],
        [AGENT_LINE, {"event": "not-an-event"}],
        "not events",
    ],
)
def test_invalid_events_are_refused_with_rasas_own_400_and_message(body):
    assert _refusal(rasa_server._validate_events_in_request_body, body) == _refusal(RASA_CHECK, body)
    assert _refusal(rasa_server._validate_events_in_request_body, body)[0] == 400
