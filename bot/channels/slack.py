"""Slack: Rasa's connector, configured from the environment; unsigned calls are refused with 403.

Rasa 3.6 checks Slack's signing secret (HMAC-SHA256 of `v0:<timestamp>:<body>`, timestamps
older than five minutes refused) but answers a failure with a plain-text 400 and the URL
check with a bare JSON string; here both follow Slack's documentation and our error format.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from channels.common import ChannelSettings, error, invalid_signature, json_body, off_blueprint, read_settings

logger = logging.getLogger(__name__)

REQUIRED = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
OPTIONAL = {"SLACK_CHANNEL": None, "SLACK_API_BASE_URL": "https://slack.com/api"}


class SlackApiBot(SlackBot):
    """chat.postMessage at SLACK_API_BASE_URL."""

    def __init__(self, token: str, api_base_url: str, channel: str | None, thread_id: str | None) -> None:
        super().__init__(token, channel, thread_id)
        self.client = AsyncWebClient(token, base_url=api_base_url.rstrip("/") + "/")

    @classmethod
    def name(cls) -> str:
        return "slack"


class SlackChannel(SlackInput):
    """`/webhooks/slack/webhook` (Events API and interactivity), on when SLACK_* are set."""

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        if not settings.enabled:
            # SlackInput refuses to exist without a signing secret; an off channel needs none.
            self.slack_token, self.slack_signing_secret = "", ""
            return
        super().__init__(
            settings["SLACK_BOT_TOKEN"],
            settings.get("SLACK_CHANNEL"),
            slack_retry_reason_header="x-slack-retry-reason",
            slack_retry_number_header="x-slack-retry-num",
            slack_signing_secret=settings["SLACK_SIGNING_SECRET"],
        )

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Read SLACK_* from the environment; credentials.yml carries no secrets."""
        return cls(read_settings("slack", REQUIRED, OPTIONAL))

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> OutputChannel:
        """Post to the event's channel, else SLACK_CHANNEL, else the user's DM (agent replies)."""
        return SlackApiBot(
            self.slack_token, self.settings["SLACK_API_BASE_URL"], channel or self.slack_channel, thread_id
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if not self.settings.enabled:
            return off_blueprint("slack", self.settings)
        webhook = Blueprint("slack_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_request_from_slack_authentic(request):
                return invalid_signature("slack", "X-Slack-Signature does not match the signing secret.")
            content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
            if content_type == "application/json":
                return await self._event(request, on_new_message)
            if content_type == "application/x-www-form-urlencoded":
                return await self._interaction(request, on_new_message)
            return error(415, "unsupported_media_type", "Slack sends JSON events or form-encoded payloads.")

        return webhook

    async def _event(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """An Events API call: the URL check, or a message to the bot."""
        body = json_body(request)
        if body is None:
            return error(400, "invalid_payload", "Expected a Slack Events API JSON object.")
        if body.get("type") == "url_verification":
            return response.json({"challenge": body.get("challenge")})
        if not self._is_user_message(body):
            return response.json({"status": "ignored"})  # the bot's own posts, edits, joins
        metadata = self.get_metadata(request)
        if not self._is_supported_channel(body, metadata):
            return response.json({"status": "ignored", "detail": "not a DM, mention or SLACK_CHANNEL"})
        event: dict[str, Any] = body["event"]
        sender = self._get_conversation_id(event.get("user"), metadata["out_channel"], metadata["thread_id"])
        text = self._sanitize_user_message(event["text"], metadata["users"])
        # Answered at once; the bot's turn runs in the background (Slack retries after 3 s).
        answer: HTTPResponse = await self.process_message(request, on_new_message, text, sender, metadata)
        return answer

    async def _interaction(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """A button or menu the customer used (interactivity payload)."""
        try:
            payload = json.loads(request.form.get("payload") or "")
        except json.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict) or not self._is_interactive_message(payload):
            return error(400, "invalid_payload", "Expected a Slack interactivity payload.")
        text = self._get_interactive_response(payload["actions"][0])
        if text is None:
            return response.json({"status": "ignored"})  # link buttons carry no value
        metadata = self.get_metadata(request)
        sender = self._get_conversation_id(
            payload.get("user", {}).get("id"), metadata["out_channel"], metadata["thread_id"]
        )
        answer: HTTPResponse = await self.process_message(request, on_new_message, text, sender, metadata)
        return answer
