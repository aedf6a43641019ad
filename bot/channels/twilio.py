"""WhatsApp through Twilio: Rasa's connector, configured from the environment, with signatures checked.

Rasa 3.6 does not check `X-Twilio-Signature` at all; here every webhook call must carry a
valid one (HMAC of the public URL and the form fields under the account's auth token).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest.api.v2010.account.message import MessageInstance

from channels.common import ChannelSettings, error, invalid_signature, off_blueprint, read_settings

logger = logging.getLogger(__name__)

REQUIRED = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_NUMBER")
OPTIONAL = {"TWILIO_API_BASE_URL": "https://api.twilio.com", "TWILIO_WEBHOOK_URL": None}


def form_fields(request: Request) -> RequestParameters:
    """The form Twilio posted, empty fields included: they are part of what Twilio signs.

    (Sanic's `request.form` drops them, so a photo sent without a caption, Body="", would
    fail the signature check.)
    """
    return RequestParameters(parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True))


class WhatsAppOutput(TwilioOutput):
    """Twilio's Messages API at TWILIO_API_BASE_URL; recipients are `whatsapp:+<number>`.

    The twilio client blocks on HTTP, so each call runs in a worker thread rather than
    stalling every conversation on Rasa's event loop.
    """

    def __init__(self, settings: ChannelSettings) -> None:
        super().__init__(
            settings["TWILIO_ACCOUNT_SID"], settings["TWILIO_AUTH_TOKEN"], settings["TWILIO_WHATSAPP_NUMBER"]
        )
        self.api.base_url = settings["TWILIO_API_BASE_URL"].rstrip("/")

    @classmethod
    def name(cls) -> str:
        return "twilio"

    async def _send_message(self, message_data: dict[str, Any]) -> MessageInstance | None:
        """Create the message through the Messages API, off the event loop."""
        return await asyncio.to_thread(self._create, message_data)

    def _create(self, message_data: dict[str, Any]) -> MessageInstance | None:
        try:
            return self.messages.create(**message_data)
        except TwilioRestException as exc:
            # Twilio refused it (bad number, outside the 24-hour window…): nothing to retry.
            logger.error("whatsapp: Twilio refused a message to %s: %s", message_data.get("to"), exc.msg)
            return None

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """WhatsApp text has no buttons: one message offering the choices to type back.

        Rasa's default sends each button as "1: Yes (/affirm)", payload included.
        """
        choices = " · ".join(str(button["title"]) for button in buttons)
        await self._send_message(
            {"to": recipient_id, "from_": self.twilio_number, "body": f"{text}\n\n{choices}"}
        )


class WhatsAppChannel(TwilioInput):
    """`/webhooks/twilio/webhook`, on when the TWILIO_* credentials and the WhatsApp sender are set."""

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        values = settings.values
        super().__init__(
            values.get("TWILIO_ACCOUNT_SID"),
            values.get("TWILIO_AUTH_TOKEN"),
            values.get("TWILIO_WHATSAPP_NUMBER"),
            debug_mode=False,
        )

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Read TWILIO_* from the environment; credentials.yml carries no secrets."""
        return cls(read_settings("whatsapp", REQUIRED, OPTIONAL))

    def signature_valid(self, request: Request, form: RequestParameters) -> bool:
        """Whether Twilio signed this call (the URL Twilio called, plus every form field)."""
        signature = request.headers.get("X-Twilio-Signature")
        if not signature or self.auth_token is None:
            return False
        # Behind a proxy the URL Rasa sees differs from the public one Twilio signed.
        url = self.settings.get("TWILIO_WEBHOOK_URL") or request.url
        return bool(RequestValidator(self.auth_token).validate(url, form, signature))

    @staticmethod
    def _text(form: RequestParameters) -> str | None:
        """What the customer sent: the text, else a location, else the first photo or file's URL."""
        latitude, longitude = form.get("Latitude"), form.get("Longitude")
        if latitude and longitude:
            return f"/locationData{{'Latitude': {latitude}, 'Longitude': {longitude}}}"
        body = form.get("Body")
        if not body and form.get("NumMedia", "0") != "0" and form.get("MediaUrl0"):
            return str(form.get("MediaUrl0"))
        return body if body is None else str(body)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if not self.settings.enabled:
            return off_blueprint("twilio", self.settings)
        webhook = Blueprint("twilio_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            form = form_fields(request)
            if not self.signature_valid(request, form):
                return invalid_signature("whatsapp", "X-Twilio-Signature does not match the auth token.")
            sender, text = form.get("From"), self._text(form)
            if form.get("MessageStatus") and text is None:
                return response.empty()  # a delivery status callback: nothing to answer
            if not sender or text is None:
                return error(400, "invalid_payload", "Expected Twilio's From and Body form fields.")
            message = UserMessage(
                # Some carriers turn @ into ¡ (as Rasa's connector notes).
                text.replace("¡", "@"),
                self.get_output_channel(),
                sender,
                input_channel=self.name(),
                metadata=self.get_metadata(request),
            )
            try:
                await on_new_message(message)
            except Exception:
                logger.exception("whatsapp: the bot failed on a message from %s", sender)
                return error(500, "bot_failed", "The assistant could not handle this message.")
            # An empty answer: replies go out through the Messages API, not as TwiML.
            return response.empty()

        return webhook

    def get_output_channel(self) -> OutputChannel:
        """The Messages API channel, also used for agent replies (output_channel=latest)."""
        return WhatsAppOutput(self.settings)
