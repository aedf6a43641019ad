"""`rasa` with five fixes for speed: run it as `python rasa_server.py run ...` (same arguments).

Rasa 3.6 checks every action server answer with `jsonschema.validate(answer, schema)`,
which re-validates Rasa's large response schema against the JSON Schema meta-schema on
every call: about 96 ms per custom action on this machine, two calls per order turn, more
than half of Rasa's time in `make bench-bot`. Its HTTP API does the same with the events
posted to a conversation (`POST /conversations/{id}/tracker/events`, how every agent reply
reaches the customer during a handoff): 44 ms of schema checking per call against 0.5 ms
for a validator built once, a third of Rasa's CPU in `make bench-handoff`. Here both
validators are built once, and the checks themselves are unchanged: an invalid answer still
raises the same ValidationError, invalid events the same 400 BadRequest.
Even built once, checking an answer took ~1 ms, because each of its events is tried against
all 23 event schemas of a `oneOf`: an answer is first checked with each event against the one
schema its `event` names (the only one that can match), and only an answer that fails that
goes through the full check, which raises Rasa's own error.

Third, Rasa opens a new HTTP client session, and so a new TCP connection, for every call to
an endpoint (`EndpointConfig.request`): every custom action and form validation paid a
connection set-up and tear-down on both sides (a py-spy profile of `make bench-bot` put ~5%
of Rasa's busy time in aiohttp's connection and session set-up). Here each event loop keeps
one session per endpoint identity, and its connections alive for a while; the request, its
headers, parameters, errors and JSON answer are Rasa's.

Fourth, the loaded model (TensorFlow, scikit-learn, the ONNX session, the domain) is ~500,000
Python objects that live as long as the process, and every full garbage collection walked
them all: 370 ms measured in-process, during which the one worker answers nobody. Once the
model is loaded they are moved out of the collector's generations (`gc.freeze()`, as the CRM
does after start-up), so a full collection walks only what turns allocate.

Fifth, the RulePolicy looks for the rules that apply to the conversation's state by trying
every rule (231 here, 51 more for forms' unhappy paths) against every turn of that state,
twice or three times per prediction, three predictions per order turn: ~2.6 ms of a ~49 ms
turn at one conversation (py-spy, `make bench-bot`), the bare moodbot's 2 rules almost none.
Which rules apply depends only on the state (what Rasa featurizes: intent, entities, slots,
previous action, active loop) and on the rules the loaded model learnt, so the answer is
kept per policy and state: a state seen before gets the same set of rules back at once.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import os
import ssl
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import aiohttp
import rasa.core.run
import rasa.server
import rasa.utils.endpoints
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.exceptions import FileNotFoundException
from rasa.utils.endpoints import EndpointConfig, concat_url

# An idle kept connection is dropped after this long: less than the 5 s after which the action
# server (Sanic's KEEP_ALIVE_TIMEOUT) closes it, so no request goes out on a connection the
# server is closing at that moment.
KEEPALIVE_SECONDS = 2.0


def _built_once(schema: dict[str, Any]) -> Any:
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of on every call
    return validator_class(schema)


class UnexpectedSchema(Exception):
    """Rasa's answer schema is not the shape `ActionAnswerCheck` relies on."""


class ActionAnswerCheck:
    """Rasa's check of an action server answer, deciding most answers per event type.

    In Rasa's schema an event must be an object with a string `event`, and match exactly one
    of the `oneOf` alternatives, each of which fixes `event` to a different constant. So an
    event is valid exactly when it passes the outer part and the one alternative for its
    `event`: checking that first gives the same verdict for less. Whatever fails it, and
    every answer if the schema has another shape (a later Rasa), goes to the full validator.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self.full = _built_once(schema)
        self.outer: Any
        self.by_event: dict[str, Any]
        try:
            self.outer, self.by_event = self._split(schema)
        except (UnexpectedSchema, KeyError, TypeError):
            self.outer, self.by_event = None, {}  # every answer gets the full check

    @staticmethod
    def _split(schema: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        items = schema["properties"]["events"]["items"]
        if items.get("required") != ["event"] or items["properties"]["event"] != {"type": "string"}:
            raise UnexpectedSchema("an event's `event` is not a required string")
        by_event: dict[str, Any] = {}
        for alternative in items["oneOf"]:
            if not set(alternative) <= {"properties", "required"}:
                raise UnexpectedSchema(f"an alternative with other keywords: {sorted(alternative)}")
            name = alternative["properties"]["event"]["const"]
            if not isinstance(name, str) or name in by_event:
                raise UnexpectedSchema(f"event constant {name!r} is not a distinct string")
            by_event[name] = _built_once(alternative)
        outer_items = {key: value for key, value in items.items() if key != "oneOf"}
        events = {**schema["properties"]["events"], "items": outer_items}
        outer = {**schema, "properties": {**schema["properties"], "events": events}}
        return _built_once(outer), by_event

    def passes_per_event(self, answer: Any) -> bool:
        """The outer schema, then each event against the alternative its `event` names."""
        if self.outer is None or not self.outer.is_valid(answer):
            return False
        events = answer.get("events") if isinstance(answer, dict) else None
        for event in events or ():
            alternative = self.by_event.get(event["event"])
            if alternative is None or not alternative.is_valid(event):
                return False
        return True

    def validate(self, answer: Any) -> None:
        """Return if the answer is valid; raise what `jsonschema.validate` raises if not."""
        if self.passes_per_event(answer):
            return
        # jsonschema.validate raises the best match among the errors, not the first one.
        error = best_match(self.full.iter_errors(answer))
        if error is not None:
            raise error


@functools.lru_cache(maxsize=1)
def _response_validator() -> ActionAnswerCheck:
    return ActionAnswerCheck(RemoteAction.action_response_format_spec())


@functools.lru_cache(maxsize=1)
def _events_validator() -> Any:
    return _built_once(rasa.server.EVENTS_SCHEMA)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _response_validator().validate(result)
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise
    return True


def _validate_events_in_request_body(request: Any) -> None:
    """rasa.server's check of posted events, with the validator built once."""
    events = request.json if isinstance(request.json, list) else [request.json]
    # What jsonschema.validate() raises: the best match among the errors.
    error = best_match(_events_validator().iter_errors(events))
    if error is not None:
        raise rasa.server.ErrorResponse(
            HTTPStatus.BAD_REQUEST,
            "BadRequest",
            "Failed to validate the events format. "
            f"For more information about the format visit the docs. Error: {error}",
            help_url=rasa.server._docs("/pages/http-api"),
        ) from error


class KeptSessions:
    """One aiohttp session per (event loop, endpoint headers and credentials), made on first use."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[Any, ...], tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]] = {}

    def session_for(self, endpoint: EndpointConfig) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        key = (
            id(loop),
            tuple(sorted((endpoint.headers or {}).items())),
            tuple(sorted((endpoint.basic_auth or {}).items())),
        )
        kept = self._sessions.get(key)
        if kept is not None and kept[0] is loop and not kept[1].closed:
            return kept[1]
        auth = None
        if endpoint.basic_auth:
            auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
        # As Rasa's EndpointConfig.session(), plus the kept connections.
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=rasa.utils.endpoints.DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
        )
        self._sessions[key] = (loop, session)
        return session

    async def close(self) -> None:
        for _, session in self._sessions.values():
            await session.close()
        self._sessions.clear()


KEPT_SESSIONS = KeptSessions()


async def _request_on_kept_connection(
    self: EndpointConfig,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """Rasa's EndpointConfig.request, sent on a kept session instead of a new one per call."""
    headers: dict[str, str] = {}
    if content_type:
        headers["Content-Type"] = content_type
    headers.update(kwargs.pop("headers", None) or {})
    headers.update(self.headers or {})
    url = concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as error:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."  # noqa: ASYNC240 (an error message)
            ) from error
    params = self.combine_parameters(kwargs)

    async def send() -> Any:
        session = KEPT_SESSIONS.session_for(self)
        async with session.request(
            method, url, headers=headers, params=params, compress=compress, ssl=sslcontext, **kwargs
        ) as response:
            if response.status >= 400:
                raise rasa.utils.endpoints.ClientResponseError(
                    response.status, response.reason, await response.content.read()
                )
            try:
                return await response.json()
            except aiohttp.ContentTypeError:
                return None

    try:
        return await send()
    except aiohttp.ServerDisconnectedError:
        # A kept connection the server closed before answering (it restarted): the request
        # was not read, so it goes once more, on a new connection.
        return await send()


_load_agent_on_start = rasa.core.run.load_agent_on_start


# Bounded: a policy serving for months sees new states (slot values, entity sets) now and then.
RULE_MEMO_LIMIT = 4096
_rules_applicable_to: Callable[[RulePolicy, dict[str, str], list[Any]], set[str]] = (
    RulePolicy._get_possible_keys
)


def _frozen_state(states: list[dict[str, dict[str, Any]]]) -> tuple[Any, ...]:
    """A hashable copy of Rasa's featurized states (sub-state values are strings, numbers or tuples)."""
    return tuple(
        tuple(sorted((kind, tuple(sorted(sub.items()))) for kind, sub in state.items())) for state in states
    )


def _memoized_possible_keys(self: RulePolicy, lookup: dict[str, str], states: list[Any]) -> set[str]:
    """RulePolicy._get_possible_keys, answered from memory for a state it has seen.

    Per policy object (a model loaded later has its own) and per lookup (rules, and rules for
    forms' unhappy paths), whose keys are fixed once the model is loaded: only the server
    uses this, never training, which builds the lookups while it predicts.
    """
    key = (id(lookup), _frozen_state(states))
    try:
        hash(key)
    except TypeError:  # a state value Rasa made unhashable (a list): ask the policy as it is
        return _rules_applicable_to(self, lookup, states)
    memo: dict[tuple[int, tuple[Any, ...]], set[str]] = self.__dict__.setdefault("_rules_memo", {})
    found = memo.get(key)
    if found is None:
        if len(memo) >= RULE_MEMO_LIMIT:
            memo.clear()
        found = memo[key] = _rules_applicable_to(self, lookup, states)
    # A copy: the policy's callers only read the set, but nothing may change the memory.
    return set(found)


async def _load_agent_then_freeze(*args: Any, **kwargs: Any) -> Any:
    """Rasa's start-up model loading, then the loaded objects frozen out of the collector."""
    agent = await _load_agent_on_start(*args, **kwargs)
    gc.collect()
    gc.freeze()
    return agent


def install() -> None:
    """Cached schema validators, kept connections, the rules memo, the model frozen: all five fixes."""
    RemoteAction._validate_action_result = _validate_action_result
    # The routes look the function up in rasa.server's globals on every call.
    rasa.server.validate_events_in_request_body = _validate_events_in_request_body
    EndpointConfig.request = _request_on_kept_connection
    # serve_application looks it up in rasa.core.run's globals when the server starts.
    rasa.core.run.load_agent_on_start = _load_agent_then_freeze
    RulePolicy._get_possible_keys = _memoized_possible_keys


if __name__ == "__main__":
    install()
    from rasa.__main__ import main

    main()
