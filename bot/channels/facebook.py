"""Facebook Messenger: Rasa's connector, configured from the environment and strict about signatures.

Rasa 3.6 checks only the SHA-1 `X-Hub-Signature` and answers a bad one with 200; here the
SHA-256 `X-Hub-Signature-256` is preferred, and an unsigned or badly signed call gets 403
without reaching the bot.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fbmessenger import MessengerClient
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import (
    ChannelSettings,
    error,
    hmac_hex,
    invalid_signature,
    json_body,
    off_blueprint,
    read_settings,
    same_secret,
)
from channels.messenger_output import PageBot, PageMessenger

logger = logging.getLogger(__name__)

REQUIRED = ("FACEBOOK_VERIFY_TOKEN", "FACEBOOK_APP_SECRET", "FACEBOOK_PAGE_ACCESS_TOKEN")
# fbmessenger defaults to Graph API v2.12, long retired; a current version unless told otherwise.
OPTIONAL = {"FACEBOOK_API_BASE_URL": "https://graph.facebook.com", "FACEBOOK_API_VERSION": "21.0"}


def signature_valid(app_secret: str, body: bytes, headers: Any) -> bool:
    """Whether Meta signed `body` with the app secret (SHA-256 header first, then the SHA-1 one)."""
    for header, algorithm in (("X-Hub-Signature-256", "sha256"), ("X-Hub-Signature", "sha1")):
        value = headers.get(header)
        if value:
            prefix, _, digest = value.partition("=")
            return prefix == algorithm and same_secret(hmac_hex(app_secret, body, algorithm), digest)
    return False


class MessengerChannel(FacebookInput):
    """`/webhooks/facebook/webhook`, on when the three FACEBOOK_* credentials are set."""

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        values = settings.values
        super().__init__(
            values.get("FACEBOOK_VERIFY_TOKEN", ""),
            values.get("FACEBOOK_APP_SECRET", ""),
            values.get("FACEBOOK_PAGE_ACCESS_TOKEN", ""),
        )

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Read FACEBOOK_* from the environment; credentials.yml carries no secrets."""
        return cls(read_settings("messenger", REQUIRED, OPTIONAL))

    def client(self) -> MessengerClient:
        """A Send API client pointed at FACEBOOK_API_BASE_URL (Meta's Graph API by default)."""
        version = self.settings["FACEBOOK_API_VERSION"].removeprefix("v")
        client = MessengerClient(self.fb_access_token, api_version=version)
        client.graph_url = f"{self.settings['FACEBOOK_API_BASE_URL'].rstrip('/')}/v{version}"
        return client

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if not self.settings.enabled:
            return off_blueprint("facebook", self.settings)
        webhook = Blueprint("fb_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify_subscription(request: Request) -> HTTPResponse:
            # Meta's one-time check when the webhook URL is saved in the app's settings.
            if request.args.get("hub.mode") == "subscribe" and same_secret(
                self.fb_verify, request.args.get("hub.verify_token")
            ):
                return response.text(request.args.get("hub.challenge") or "")
            return error(403, "invalid_verify_token", "hub.verify_token is not FACEBOOK_VERIFY_TOKEN.")

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not signature_valid(self.fb_secret, request.body, request.headers):
                return invalid_signature("messenger", "X-Hub-Signature-256 does not match the app secret.")
            payload = json_body(request)
            if payload is None or payload.get("object") != "page":
                return error(400, "invalid_payload", "Expected a Messenger 'page' webhook event.")
            await self._handle(payload, on_new_message, self.get_metadata(request))
            return response.json({"status": "received"})

        return webhook

    async def _handle(
        self,
        payload: dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        metadata: dict[str, Any] | None,
    ) -> None:
        # Meta batches events; Rasa's Messenger.handle stops after the first one.
        messenger = PageMessenger(self.fb_access_token, on_new_message)
        messenger.client = self.client()
        entries = [e for e in payload.get("entry") or [] if isinstance(e, dict)]
        for entry in entries:
            for event in [e for e in entry.get("messaging") or [] if isinstance(e, dict)]:
                messenger.last_message = event
                if event.get("message"):
                    await messenger.message(event, metadata)
                elif event.get("postback"):
                    await messenger.postback(event, metadata)

    def get_output_channel(self) -> OutputChannel:
        """The Send API channel, also used for agent replies (output_channel=latest)."""
        return PageBot(self.client())
