"""A local stand-in for the Facebook Graph, Telegram Bot, Twilio and Slack Web APIs.

The Rasa server's connectors send their replies here (their *_API_BASE_URL variables point
at it), and the fake answers the way each platform does, so the connectors' own response
handling runs too. Every request is recorded for the tests to inspect.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
# Fake credentials, shaped like the real ones (aiogram checks the Telegram token's shape).
FACEBOOK = {
    "FACEBOOK_VERIFY_TOKEN": "fake-verify-token",
    "FACEBOOK_APP_SECRET": "fake-facebook-app-secret",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "fake-page-access-token",
}
TELEGRAM = {
    "TELEGRAM_ACCESS_TOKEN": "123456789:AAFakeTelegramBotToken",
    "TELEGRAM_SECRET_TOKEN": "fake-tg-secret",
}
TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "fake-twilio-auth-token",
    "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
}
SLACK = {"SLACK_BOT_TOKEN": "xoxb-fake-slack-token", "SLACK_SIGNING_SECRET": "fake-slack-signing-secret"}


@dataclass(frozen=True)
class PlatformCall:
    """One request a connector made to a platform API."""

    platform: str  # facebook | telegram | twilio | slack
    method: str
    path: str  # below the platform's prefix, e.g. /v2.6/me/messages
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """The form-encoded body, one value per field."""
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


class FakePlatforms:
    """An HTTP server on a free local port that records calls and answers like each platform."""

    def __init__(self) -> None:
        self.calls: list[PlatformCall] = []
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, body = fake._record(
                    self.command, self.path, dict(self.headers), self.rfile.read(length)
                )
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # keep pytest's output clean
                return

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def environment(self) -> dict[str, str]:
        """What the Rasa server needs to turn every connector on and aim it at this fake."""
        return {
            **FACEBOOK,
            **TELEGRAM,
            **TWILIO,
            **SLACK,
            "FACEBOOK_API_BASE_URL": f"{self.url}/facebook",
            "TELEGRAM_API_BASE_URL": f"{self.url}/telegram",
            "TWILIO_API_BASE_URL": f"{self.url}/twilio",
            "SLACK_API_BASE_URL": f"{self.url}/slack",
        }

    def wait_for(
        self, predicate: Callable[[PlatformCall], bool], *, timeout: float = 30, count: int = 1
    ) -> list[PlatformCall]:
        """The first `count` calls matching `predicate`, waiting for them up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [call for call in self.calls if predicate(call)]
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.platform, c.method, c.path) for c in self.calls[-10:]]
                    raise AssertionError(f"no matching platform call within {timeout} s; last calls: {seen}")
                self._changed.wait(remaining)

    def matching(self, predicate: Callable[[PlatformCall], bool]) -> list[PlatformCall]:
        """The calls so far that match `predicate`."""
        with self._changed:
            return [call for call in self.calls if predicate(call)]

    def _record(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        parts = urlsplit(target)
        platform, _, rest = parts.path.lstrip("/").partition("/")
        call = PlatformCall(platform, method, "/" + rest, parse_qs(parts.query), headers, body)
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        answer = {
            "facebook": self._facebook,
            "telegram": self._telegram,
            "twilio": self._twilio,
            "slack": self._slack,
        }.get(platform)
        if answer is None:
            return 404, {"error": "unknown_platform", "detail": parts.path}
        return answer(call)

    # --- what each platform answers ---------------------------------------------------

    def _facebook(self, call: PlatformCall) -> tuple[int, Any]:
        # Send API: https://developers.facebook.com/docs/messenger-platform/reference/send-api/
        recipient = call.json().get("recipient", {}).get("id")
        return 200, {"recipient_id": recipient, "message_id": f"m_fake{next(self._ids)}"}

    def _telegram(self, call: PlatformCall) -> tuple[int, Any]:
        # Bot API: every answer is {"ok": true, "result": ...}; sendMessage returns the Message.
        method = call.path.rsplit("/", 1)[-1]
        fields = self._fields(call)
        if method in ("sendMessage", "sendPhoto"):
            chat_id = int(fields.get("chat_id", 0))
            result: Any = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": 123456789, "is_bot": True, "first_name": "Shop", "username": "shop_bot"},
                "text": fields.get("text", ""),
            }
        elif method == "getMe":
            result = {"id": 123456789, "is_bot": True, "first_name": "Shop", "username": "shop_bot"}
        else:
            result = True
        return 200, {"ok": True, "result": result}

    def _twilio(self, call: PlatformCall) -> tuple[int, Any]:
        # Messages resource: https://www.twilio.com/docs/messaging/api/message-resource
        fields = call.form()
        account = TWILIO["TWILIO_ACCOUNT_SID"]
        sid = f"SM{next(self._ids):032d}"
        return 201, {
            "sid": sid, "account_sid": account, "to": fields.get("To"), "from": fields.get("From"),
            "body": fields.get("Body", ""), "status": "queued", "num_segments": "1", "direction": "outbound-api",
            "api_version": "2010-04-01", "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }  # fmt: skip

    def _slack(self, call: PlatformCall) -> tuple[int, Any]:
        # Web API: chat.postMessage answers {"ok": true, "channel", "ts", "message"}.
        fields = self._fields(call)
        ts = f"{time.time():.6f}"
        return 200, {
            "ok": True,
            "channel": fields.get("channel"),
            "ts": ts,
            "message": {"text": fields.get("text")},
        }

    @staticmethod
    def _fields(call: PlatformCall) -> dict[str, Any]:
        """A request's parameters, whether sent as JSON, a form or a multipart form."""
        content_type = call.headers.get("Content-Type", "")
        if "json" in content_type:
            body = call.json()
            return body if isinstance(body, dict) else {}
        if "multipart/form-data" in content_type:
            return _multipart_fields(call.body, content_type)
        return call.form()


def _multipart_fields(body: bytes, content_type: str) -> dict[str, str]:
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    fields: dict[str, str] = {}
    for part in body.split(b"--" + boundary):
        head, _, value = part.partition(b"\r\n\r\n")
        if b'name="' in head:
            name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
            fields[name] = value.rstrip(b"\r\n").decode()
    return fields


def fake_platforms() -> Iterator[FakePlatforms]:
    """Run the fake for as long as the generator is open (the session fixture's body)."""
    fake = FakePlatforms()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
