"""The widget's channel: Rasa's socket.io with session persistence delivers the bot's replies.

Guards against RasaHQ/rasa#13027: with python-socketio 5.10+ Rasa never joins the
session's room, and every reply is silently lost.
"""

from __future__ import annotations

import queue
import uuid
from typing import Any

import socketio

from tests.e2e.conftest import RunningStack


def test_bot_replies_reach_a_persistent_socketio_session(running_stack: RunningStack):
    replies: queue.Queue[dict[str, Any]] = queue.Queue()
    session_confirmed: queue.Queue[Any] = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("bot_uttered", replies.put)
    client.on("session_confirm", session_confirmed.put)
    session_id = uuid.uuid4().hex

    client.connect(running_stack.config.rasa_url, transports=["websocket"], wait_timeout=10)
    try:
        client.emit("session_request", {"session_id": session_id})
        assert session_confirmed.get(timeout=10) in (session_id, {"session_id": session_id})
        client.emit("user_uttered", {"message": "hello", "session_id": session_id})
        reply = replies.get(timeout=30)
    finally:
        client.disconnect()

    assert "support assistant" in reply["text"]
