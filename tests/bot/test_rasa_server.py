"""bot/rasa_server.py: its checks answer exactly as Rasa's own, kept connections, the model frozen."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import rasa.server
import rasa.utils.endpoints
from jsonschema import ValidationError

from bot import rasa_server

RASA_CHECK = rasa.server.validate_events_in_request_body


def RASA_ACTION_CHECK(answer: Any) -> None:  # noqa: N802 (a constant-like reference)
    """Rasa's own check of an action answer: jsonschema.validate against its schema."""
    import jsonschema

    jsonschema.validate(answer, rasa_server.RemoteAction.action_response_format_spec())


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


# --- kept connections to the action server ------------------------------------------------------


class CountingServer:
    """A real HTTP server on loopback that notes which client connection each request came on."""

    def __init__(self) -> None:
        self.peers: list[Any] = []
        self.bodies: list[Any] = []
        self.runner: Any = None
        self.url = ""

    async def start(self) -> None:
        from aiohttp import web

        async def webhook(request: web.Request) -> web.StreamResponse:
            self.bodies.append(await request.json())
            self.peers.append(request.transport.get_extra_info("peername") if request.transport else None)
            if request.query.get("fail"):
                return web.Response(status=404, text="no such action")
            if request.query.get("text"):
                return web.Response(text="plain words")
            return web.json_response({"events": [], "responses": [], "token": request.query.get("token")})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/webhook"

    async def stop(self) -> None:
        await self.runner.cleanup()


@pytest.fixture
async def kept() -> Any:
    original_request = rasa_server.EndpointConfig.request
    rasa_server.install()
    server = CountingServer()
    await server.start()
    yield server
    await rasa_server.KEPT_SESSIONS.close()
    await server.stop()
    rasa.server.validate_events_in_request_body = RASA_CHECK
    rasa_server.EndpointConfig.request = original_request


async def test_calls_to_an_endpoint_share_one_connection_and_answer_as_rasa(kept):
    endpoint = rasa_server.EndpointConfig(kept.url, token="s3cret")
    answers = [await endpoint.request(json={"next_action": f"a{i}"}, method="post") for i in range(5)]

    assert answers == [{"events": [], "responses": [], "token": "s3cret"}] * 5  # Rasa's token parameter
    assert [body["next_action"] for body in kept.bodies] == [f"a{i}" for i in range(5)]
    assert len(set(kept.peers)) == 1  # one client connection; Rasa's own request opened five


async def test_error_statuses_and_non_json_answers_are_what_rasa_gives(kept):
    endpoint = rasa_server.EndpointConfig(kept.url)
    with pytest.raises(rasa.utils.endpoints.ClientResponseError) as refused:
        await endpoint.request(json={}, method="post", params={"fail": "1"})
    assert refused.value.status == 404
    assert refused.value.text == b"no such action"
    assert await endpoint.request(json={}, method="post", params={"text": "1"}) is None


async def test_a_connection_the_server_closed_is_replaced_and_the_call_still_answers(kept):
    endpoint = rasa_server.EndpointConfig(kept.url)
    assert await endpoint.request(json={"n": 1}, method="post") is not None
    # The server goes away and comes back on the same port: the kept connection is dead.
    port = int(kept.url.rsplit(":", 1)[1].split("/")[0])
    await kept.stop()
    from aiohttp import web

    async def webhook(request: web.Request) -> web.StreamResponse:
        kept.bodies.append(await request.json())
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    kept.runner = web.AppRunner(app)
    await kept.runner.setup()
    await web.TCPSite(kept.runner, "127.0.0.1", port).start()

    assert await endpoint.request(json={"n": 2}, method="post") == {"events": [], "responses": []}
    assert [body["n"] for body in kept.bodies] == [1, 2]  # sent once to the new server


# --- the loaded model frozen out of the garbage collector ---------------------------------------


async def test_the_model_loaded_at_start_up_is_frozen_out_of_the_collector(monkeypatch):
    import gc

    import rasa.core.run

    loaded = object()
    calls: list[tuple[Any, ...]] = []

    async def rasas_loading(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return loaded

    monkeypatch.setattr(rasa_server, "_load_agent_on_start", rasas_loading)
    monkeypatch.setattr(rasa.core.run, "load_agent_on_start", rasa.core.run.load_agent_on_start)
    monkeypatch.setattr(rasa_server.EndpointConfig, "request", rasa_server.EndpointConfig.request)
    monkeypatch.setattr(
        rasa_server.RemoteAction, "_validate_action_result", rasa_server.RemoteAction._validate_action_result
    )
    monkeypatch.setattr(rasa.server, "validate_events_in_request_body", RASA_CHECK)
    rasa_server.install()
    assert rasa.core.run.load_agent_on_start is rasa_server._load_agent_then_freeze
    try:
        agent = await rasa.core.run.load_agent_on_start("models/x.tar.gz", None, None)
        assert agent is loaded
        assert calls == [("models/x.tar.gz", None, None)]  # Rasa's loading, with Rasa's arguments
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


# --- the action answer check, per event type ------------------------------------------------------

SLOT = {"event": "slot", "name": "order_number", "value": "ORD-100001", "timestamp": None}
UTTERANCE = {"response": "utter_order_status", "order_number": "ORD-100001", "buttons": []}
VALID_ANSWERS = [
    {"events": [], "responses": []},
    {"events": [SLOT, {"event": "slot", "name": "requested_slot", "value": None}], "responses": [UTTERANCE]},
    {"events": [{"event": "followup", "name": "action_listen"}, {"event": "active_loop", "name": None}]},
    {"events": [{"event": "action_execution_rejected", "name": "x", "metadata": {"why": "test"}}]},
    {"events": [{"event": "bot", "text": "hi", "timestamp": 1.5}, {"event": "reset_slots"}]},
    {
        "events": [
            {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 1}}}
        ]
    },
    {"responses": [{"text": "only words"}]},
    {},
]
INVALID_ANSWERS = [
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot", "value": 1}]},  # a slot without its name
    {"events": [{"event": 7}]},
    {"events": [{"name": "x"}]},  # no event type
    {"events": [{**SLOT, "timestamp": "yesterday"}]},
    {"events": [{**SLOT, "metadata": ["not", "an", "object"]}]},
    {"events": [SLOT, "not an object"]},
    {"events": {"event": "slot"}},
    {"events": [], "responses": "utter_greet"},
    {"responses": ["not an object"]},
    {"events": [{"event": "user", "parse_data": {"entities": [{"value": "x"}]}}]},  # entity without name
    {"events": [{"event": "user", "parse_data": "not an object"}]},
    [],
    "answer",
]


@pytest.mark.parametrize("answer", VALID_ANSWERS + INVALID_ANSWERS)
def test_the_per_event_check_gives_the_full_validators_verdict_and_error(answer):
    check = rasa_server._response_validator()
    assert check.outer is not None  # Rasa 3.6's schema has the shape the shortcut needs
    full_verdict = check.full.is_valid(answer)
    if full_verdict:
        assert check.passes_per_event(answer)
        check.validate(answer)
        return
    assert not check.passes_per_event(answer)
    with pytest.raises(ValidationError) as ours:
        check.validate(answer)
    with pytest.raises(ValidationError) as rasas:
        RASA_ACTION_CHECK(answer)
    assert ours.value.message == rasas.value.message


def test_the_corpus_holds_both_kinds():
    check = rasa_server._response_validator()
    assert all(check.full.is_valid(answer) for answer in VALID_ANSWERS)
    assert not any(check.full.is_valid(answer) for answer in INVALID_ANSWERS)


def test_a_schema_of_another_shape_is_always_checked_in_full():
    check = rasa_server.ActionAnswerCheck({"type": "object", "properties": {"events": {"type": "array"}}})
    assert check.outer is None
    assert not check.passes_per_event({"events": []})
    check.validate({"events": []})
    with pytest.raises(ValidationError):
        check.validate({"events": "x"})
