"""`rasa` with two fixes for speed: run it as `python rasa_server.py run ...` (same arguments).

Rasa 3.6 checks every action server answer with `jsonschema.validate(answer, schema)`,
which re-validates Rasa's large response schema against the JSON Schema meta-schema on
every call: about 96 ms per custom action on this machine, two calls per order turn, more
than half of Rasa's time in `make bench-bot`. Its HTTP API does the same with the events
posted to a conversation (`POST /conversations/{id}/tracker/events`, how every agent reply
reaches the customer during a handoff): 44 ms of schema checking per call against 0.5 ms
for a validator built once, a third of Rasa's CPU in `make bench-handoff`. Here both
validators are built once, and the checks themselves are unchanged: an invalid answer still
raises the same ValidationError, invalid events the same 400 BadRequest.
"""

from __future__ import annotations

import functools
from http import HTTPStatus
from typing import Any

import rasa.server
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


def _built_once(schema: dict[str, Any]) -> Any:
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of on every call
    return validator_class(schema)


@functools.lru_cache(maxsize=1)
def _response_validator() -> Any:
    return _built_once(RemoteAction.action_response_format_spec())


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


def install() -> None:
    """Replace Rasa's per-call schema checks with the cached validators."""
    RemoteAction._validate_action_result = _validate_action_result
    # The routes look the function up in rasa.server's globals on every call.
    rasa.server.validate_events_in_request_body = _validate_events_in_request_body


if __name__ == "__main__":
    install()
    from rasa.__main__ import main

    main()
