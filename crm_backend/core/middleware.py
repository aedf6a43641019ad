"""ASGI middleware that vets requests before routing."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A NUL can't be stored in PostgreSQL text: refuse it at the door rather than fail later.
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_URL_NUL = re.compile(rb"%00")


class RequestGuard:
    """Refuse oversized bodies (413) and NUL characters anywhere in the request (422).

    The body is read whole (JSON APIs parse it whole anyway), checked, then replayed to
    the app, whether or not the client sent a Content-Length.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(send)
            return
        raw_url = (scope.get("raw_path") or scope["path"].encode()) + b"?" + scope.get("query_string", b"")
        if _URL_NUL.search(raw_url) or "\x00" in scope["path"]:
            await _refuse(send, 422, "validation_error", "NUL characters are not allowed.")
            return

        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b"\x00" in body or _ESCAPED_NUL.search(body):
            await _refuse(send, 422, "validation_error", "NUL characters are not allowed.")
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        detail = f"Request bodies are limited to {self.max_bytes} bytes."
        await _refuse(send, 413, "payload_too_large", detail)


async def _refuse(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
