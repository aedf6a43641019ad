"""`rasa` with one fix for speed: run it as `python rasa_server.py run ...` (same arguments).

Rasa 3.6 checks every action server answer with `jsonschema.validate(answer, schema)`,
which re-validates Rasa's large response schema against the JSON Schema meta-schema on
every call: about 96 ms per custom action on this machine, two calls per order turn, more
than half of Rasa's time in `make bench-bot`. Here the validator is built once, and the
check itself is unchanged: an invalid answer still raises the same ValidationError.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of on every call
    return validator_class(schema)


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


def install() -> None:
    """Replace Rasa's per-call schema check with the cached validator."""
    RemoteAction._validate_action_result = _validate_action_result


if __name__ == "__main__":
    install()
    from rasa.__main__ import main

    main()
