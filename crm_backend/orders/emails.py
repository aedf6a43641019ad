"""EmailStr with a fast path for plain ASCII addresses (the order lookup's hot validation)."""

from __future__ import annotations

import re
from typing import Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic.networks import validate_email
from pydantic_core import core_schema

# Only addresses email-validator certainly accepts unchanged: dot-atoms of letters, digits and
# "_+-", a lower-case domain of at least two labels without "--" (no IDNA forms), an alphabetic
# TLD, well under every length limit. Everything else goes to email-validator itself.
_PLAIN = re.compile(
    r"[A-Za-z0-9_+-]{1,64}(?:\.[A-Za-z0-9_+-]{1,64})*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_MAX_PLAIN = 128
_MAX_LOCAL = 64
_SPECIAL = tuple(SPECIAL_USE_DOMAIN_NAMES)


def _is_plain(value: str) -> bool:
    if len(value) > _MAX_PLAIN or "--" in value or _PLAIN.fullmatch(value) is None:
        return False
    local, _, domain = value.rpartition("@")
    if len(local) > _MAX_LOCAL:
        return False
    return not any(domain == name or domain.endswith("." + name) for name in _SPECIAL)


def normalize_email(value: str) -> str:
    """What pydantic's EmailStr returns for `value`, or its error; plain addresses skip the parser."""
    if _is_plain(value):
        return value
    return validate_email(value)[1]


class FastEmailStr(str):
    """A drop-in for EmailStr (same results, errors and JSON schema), cheaper for plain addresses."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(normalize_email, core_schema.str_schema())

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        field_schema = handler(schema)
        field_schema.update(type="string", format="email")
        return field_schema
