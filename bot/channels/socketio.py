"""The widget's channel: Rasa's socket.io, plus the agent's typing indicator.

Rasa's tracker-events API can only send what it records, and a typing indicator must never
be recorded. So the CRM posts typing changes to `POST /webhooks/socketio/typing`
{"sender_id": str, "typing": bool}, authenticated by Rasa's API token (`?token=` or
`Authorization: Bearer`, the value of --auth-token, read from RASA_AUTH_TOKEN or
CRM_RASA_TOKEN); the channel emits `agent_typing` {"typing": bool} to the sender's room.

The channel keeps its name, so `output_channel=latest` still finds it, and its credentials
(event names, session persistence). It also joins the session's room whether python-socketio's
`enter_room` is a coroutine or not, which Rasa 3.6 gets wrong (RasaHQ/rasa#13027).
"""

from __future__ import annotations

import hmac
import inspect
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

TYPING_EVENT = "agent_typing"
TOKEN_VARIABLES = ("RASA_AUTH_TOKEN", "CRM_RASA_TOKEN")
MAX_SENDER_ID = 255


def api_token() -> str | None:
    """The token Rasa's HTTP API runs with; None leaves the typing route off."""
    for name in TOKEN_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _error(status: int, error: str, detail: str) -> HTTPResponse:
    return response.json({"error": error, "detail": detail}, status=status)


def _given_token(request: Request) -> str:
    header = str(request.headers.get("Authorization", ""))
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return str(request.args.get("token") or "")


class WidgetSocketIOInput(SocketIOInput):
    """Rasa's socket.io input channel with a typing route and a room join that always happens."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint, its session_request handler replaced, and POST /typing added."""
        blueprint: Blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by the parent's blueprint()
        token = api_token()

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = data if isinstance(data, dict) else {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, data["session_id"], namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", data["session_id"], room=sid, namespace=self.namespace)

        @blueprint.route("/typing", methods=["POST"])
        async def typing(request: Request) -> HTTPResponse:
            if token is None:
                return _error(503, "typing_off", "Set RASA_AUTH_TOKEN (or CRM_RASA_TOKEN) to enable it.")
            if not hmac.compare_digest(_given_token(request).encode(), token.encode()):
                return _error(401, "unauthorized", "A valid Rasa API token is required.")
            try:
                body = request.json
            except Exception:  # Sanic raises its own InvalidUsage for a body that is not JSON
                body = None
            sender_id = body.get("sender_id") if isinstance(body, dict) else None
            is_typing = body.get("typing") if isinstance(body, dict) else None
            if not isinstance(sender_id, str) or not 0 < len(sender_id) <= MAX_SENDER_ID:
                return _error(400, "invalid_sender_id", "sender_id must be a string of 1-255 characters.")
            if not isinstance(is_typing, bool):
                return _error(400, "invalid_typing", "typing must be true or false.")
            await sio.emit(TYPING_EVENT, {"typing": is_typing}, room=sender_id, namespace=self.namespace)
            return response.empty(status=204)

        return blueprint
