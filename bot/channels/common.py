"""What every social connector shares: settings from the environment, the 'off' state, JSON errors.

Rasa substitutes `${VAR}` in credentials.yml and fails on an unset variable, so the
connectors read the environment themselves: a platform without credentials is simply off.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelSettings:
    """One connector's settings: required values (all set, or the channel is off) and optional ones."""

    label: str
    values: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return not self.missing

    def __getitem__(self, name: str) -> str:
        return self.values[name]

    def get(self, name: str) -> str | None:
        """An optional value, None when unset or empty."""
        return self.values.get(name) or None


def read_settings(
    label: str,
    required: tuple[str, ...],
    optional: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ChannelSettings:
    """Read a connector's variables; log one line saying whether it is on or off and why."""
    env = os.environ if environ is None else environ
    values = {name: env.get(name, "").strip() for name in required}
    missing = tuple(name for name, value in values.items() if not value)
    for name, default in (optional or {}).items():
        value = env.get(name, "").strip() or default
        if value:
            values[name] = value
    settings = ChannelSettings(label=label, values=values, missing=missing)
    if settings.enabled:
        logger.info("%s: on", label)
    else:
        logger.info("%s: off (%s not set)", label, ", ".join(missing))
    return settings


def error(status: int, code: str, detail: str) -> HTTPResponse:
    """The project's error body: {"error": ..., "detail": ...}."""
    return response.json({"error": code, "detail": detail}, status=status)


def invalid_signature(label: str, detail: str) -> HTTPResponse:
    """403 for a webhook call the platform did not sign (or signed with another secret)."""
    logger.warning("%s: rejected a webhook call: %s", label, detail)
    return error(403, "invalid_signature", detail)


def off_blueprint(name: str, settings: ChannelSettings) -> Blueprint:
    """The routes of a channel that is off: each answers 503 saying which variables are missing."""
    blueprint = Blueprint(f"{name}_webhook_off", __name__)
    detail = f"{settings.label} is off: {', '.join(settings.missing)} not set on the Rasa server."

    async def channel_off(_: Request) -> HTTPResponse:
        return error(503, "channel_off", detail)

    blueprint.add_route(channel_off, "/", methods=["GET"], name="health")
    blueprint.add_route(channel_off, "/webhook", methods=["GET", "POST"], name="webhook")
    return blueprint


def hmac_hex(secret: str, body: bytes, algorithm: str = "sha256") -> str:
    """The hex HMAC of `body` under `secret`."""
    return hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def same_secret(expected: str, given: str | None) -> bool:
    """Constant-time comparison, so the check leaks nothing through timing."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def json_body(request: Request) -> dict[str, Any] | None:
    """The request's JSON object, or None when the body is not one."""
    try:
        body = request.json
    except Exception:  # Sanic raises its own BadRequest for malformed JSON
        return None
    return body if isinstance(body, dict) else None
