"""bench-handoff's two ends: a customer's widget socket and an agent's console.

The widget side is python-socketio's threaded client, talking to Rasa's socket.io channel as
widget/ does (session persistence, `user_uttered` / `bot_uttered`). The console side logs an
agent in and holds the /api/live WebSocket open as /console does. Both timestamp each
arrival with `time.perf_counter()` the moment it is read and hand it to a callback.
"""

from __future__ import annotations

import asyncio
import json
import queue
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import httpx
import socketio
from websockets.asyncio.client import ClientConnection, connect

# A text and when it arrived (time.perf_counter()).
Arrival = Callable[[str, float], None]
AGENT_LOGIN = {"email": "agent@example.com", "password": "agent-demo-password"}
HANDOFF_REQUEST = "I want to talk to a human"


class WidgetSocket:
    """One customer on the widget's socket.io channel; every `bot_uttered` text goes to `on_text`."""

    def __init__(self, rasa_url: str, label: str, on_text: Arrival) -> None:
        self.label = label
        self.session_id = uuid.uuid4().hex
        self.handoff_id = 0
        self._on_text = on_text
        self._replies: queue.Queue[str] = queue.Queue()
        confirmed: queue.Queue[Any] = queue.Queue()
        self._client = socketio.Client(reconnection=False)
        self._client.on("bot_uttered", self._uttered)
        self._client.on("session_confirm", confirmed.put)
        self._client.connect(rasa_url, transports=["websocket"], wait_timeout=10)
        self._client.emit("session_request", {"session_id": self.session_id})
        confirmed.get(timeout=10)

    def _uttered(self, data: dict[str, Any]) -> None:
        # First thing: the handler runs on a fresh thread per message (python-engineio).
        at = time.perf_counter()
        text = str(data.get("text") or "")
        self._on_text(text, at)
        self._replies.put(text)

    def say(self, text: str) -> None:
        """Send a message as the widget does."""
        self._client.emit("user_uttered", {"message": text, "session_id": self.session_id})

    def wait_for_reply(self, words: str, timeout: float = 60) -> str:
        """Block until a bot line containing `words` arrives."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                text = self._replies.get(timeout=left)
            except queue.Empty:
                break
            if words in text:
                return text
        raise TimeoutError(f"{self.label}: no reply containing {words!r} within {timeout:.0f} s")

    def close(self) -> None:
        """Disconnect the socket."""
        self._client.disconnect()


class LiveConsole:
    """An agent, logged in and online, with the console's /api/live WebSocket open."""

    def __init__(self, crm_url: str, on_text: Arrival) -> None:
        self.crm_url = crm_url
        self.http = httpx.AsyncClient(base_url=crm_url, timeout=30)
        self._on_text = on_text
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        # sender_id -> the latest handoff.changed item seen for it.
        self.handoffs: dict[str, dict[str, Any]] = {}

    async def open(self) -> None:
        """Log in, go online (the handoff action needs an agent online), open /api/live."""
        login = await self.http.post("/api/auth/login", json=AGENT_LOGIN)
        login.raise_for_status()
        token = login.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        (await self.http.put("/api/agents/me/presence", json={"is_online": True})).raise_for_status()
        live_url = f"{self.crm_url.replace('http://', 'ws://')}/api/live?token={token}"
        self._socket = await connect(live_url, max_queue=None)
        ready = json.loads(await asyncio.wait_for(self._socket.recv(), timeout=10))
        if ready != {"type": "live.ready"}:
            raise RuntimeError(f"/api/live: expected live.ready first, got {ready!r}")
        self._reader = asyncio.create_task(self._read(self._socket))

    async def _read(self, socket: ClientConnection) -> None:
        async for frame in socket:
            at = time.perf_counter()
            event = json.loads(frame)
            kind = event.get("type")
            if kind == "message.created":
                self._on_text(str(event["message"].get("text") or ""), at)
            elif kind == "bench.probe":
                self._on_text(str(event.get("text") or ""), at)
            elif kind == "handoff.changed":
                handoff = event["handoff"]
                self.handoffs[str(handoff["sender_id"])] = handoff

    async def wait_for_handoff(self, sender_id: str, timeout: float = 30) -> dict[str, Any]:
        """The waiting handoff of `sender_id`, as announced on /api/live."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._reader is not None and self._reader.done():
                raise RuntimeError(f"/api/live closed: {self._reader.exception()!r}")
            if sender_id in self.handoffs:
                return self.handoffs[sender_id]
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no handoff for {sender_id} on /api/live within {timeout:.0f} s")

    async def stored_texts(self, sender_id: str) -> list[str]:
        """Every message text of the conversation in the CRM's order, all pages."""
        texts: list[str] = []
        while True:
            params = {"limit": 200, "offset": len(texts)}
            response = await self.http.get(f"/api/conversations/{sender_id}/messages", params=params)
            response.raise_for_status()
            page = response.json()
            texts += [str(item.get("text") or "") for item in page["items"]]
            if not page["items"] or len(texts) >= page["total"]:
                return texts

    @property
    def live_is_open(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def close(self) -> None:
        """Go offline and close the socket and the HTTP client."""
        if self._reader is not None:
            self._reader.cancel()
        if self._socket is not None:
            await self._socket.close()
        with suppress(httpx.HTTPError):
            await self.http.put("/api/agents/me/presence", json={"is_online": False})
        await self.http.aclose()
