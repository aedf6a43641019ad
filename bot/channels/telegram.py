"""Telegram: Rasa's connector, configured from the environment, authenticated by the secret token.

Rasa 3.6 "verifies" each update by calling getMe and comparing the bot's username — an API
call per message that proves nothing about the caller. Telegram's own mechanism is the
`secret_token` given to setWebhook, sent back in X-Telegram-Bot-Api-Secret-Token; with
TELEGRAM_SECRET_TOKEN set, updates without it are refused. Rasa also sets the webhook
with asyncio.run() whenever it builds an output channel, which fails inside the server's
event loop (agent replies); here the webhook is set only on request (/set_webhook).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.types import Update
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.constants import USER_INTENT_RESTART
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import (
    ChannelSettings,
    error,
    invalid_signature,
    json_body,
    off_blueprint,
    read_settings,
    same_secret,
)

logger = logging.getLogger(__name__)

REQUIRED = ("TELEGRAM_ACCESS_TOKEN",)
OPTIONAL = {
    "TELEGRAM_SECRET_TOKEN": None,
    "TELEGRAM_WEBHOOK_URL": None,
    "TELEGRAM_API_BASE_URL": "https://api.telegram.org",
}
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


class TelegramBotOutput(TelegramOutput):
    """The Bot API at TELEGRAM_API_BASE_URL (sendMessage, sendPhoto, inline keyboards)."""

    def __init__(self, access_token: str, api_base_url: str) -> None:
        # TelegramOutput.__init__ cannot pass a server; call aiogram's Bot directly.
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_base_url))

    @classmethod
    def name(cls) -> str:
        return "telegram"


class TelegramChannel(TelegramInput):
    """`/webhooks/telegram/webhook`, on when TELEGRAM_ACCESS_TOKEN is set."""

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        super().__init__(
            settings.get("TELEGRAM_ACCESS_TOKEN"),
            None,
            settings.get("TELEGRAM_WEBHOOK_URL"),
            debug_mode=False,
        )
        self._output: TelegramBotOutput | None = None
        if settings.enabled and not settings.get("TELEGRAM_SECRET_TOKEN"):
            logger.warning("telegram: TELEGRAM_SECRET_TOKEN is not set; anyone can post updates")

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Read TELEGRAM_* from the environment; credentials.yml carries no secrets."""
        return cls(read_settings("telegram", REQUIRED, OPTIONAL))

    def get_output_channel(self) -> TelegramBotOutput:
        """One Bot API client per server (its HTTP session is reused), also for agent replies."""
        if self._output is None:
            assert self.access_token is not None  # only called when the channel is on
            self._output = TelegramBotOutput(self.access_token, self.settings["TELEGRAM_API_BASE_URL"])
        return self._output

    def secret_valid(self, request: Request) -> bool:
        """Whether the update carries the secret token given to setWebhook (when one is configured)."""
        expected = self.settings.get("TELEGRAM_SECRET_TOKEN")
        return expected is None or same_secret(expected, request.headers.get(SECRET_HEADER))

    async def set_webhook(self) -> bool:
        """Point Telegram at TELEGRAM_WEBHOOK_URL, with the secret token."""
        data = {"url": self.webhook_url}
        if self.settings.get("TELEGRAM_SECRET_TOKEN"):
            data["secret_token"] = self.settings["TELEGRAM_SECRET_TOKEN"]
        return bool(await self.get_output_channel().request("setWebhook", data))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if not self.settings.enabled:
            return off_blueprint("telegram", self.settings)
        webhook = Blueprint("telegram_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/set_webhook", methods=["POST"])
        async def set_webhook(request: Request) -> HTTPResponse:
            if not self.webhook_url:
                return error(409, "no_webhook_url", "TELEGRAM_WEBHOOK_URL is not set.")
            if not self.secret_valid(request):
                return invalid_signature("telegram", f"{SECRET_HEADER} is missing or wrong.")
            await self.set_webhook()
            return response.json({"status": "webhook set", "url": self.webhook_url})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.secret_valid(request):
                return invalid_signature("telegram", f"{SECRET_HEADER} is missing or wrong.")
            payload = json_body(request)
            try:
                update = Update(**payload) if payload is not None else None
            except (TypeError, ValueError):
                update = None
            if update is None:
                return error(400, "invalid_payload", "Expected a Telegram Update object.")
            chat_and_text = self._chat_and_text(update)
            if chat_and_text is not None:
                if self._is_button(update):
                    # Stops the spinner on the customer's button (Rasa never answers it).
                    await self.get_output_channel().answer_callback_query(update.callback_query.id)
                await self._deliver(*chat_and_text, on_new_message, self.get_metadata(request))
            return response.json({"status": "received"})

        return webhook

    def _chat_and_text(self, update: Update) -> tuple[str, str] | None:
        """Who wrote and what, for the updates the bot answers (text, button, location)."""
        if self._is_button(update) and update.callback_query.message is not None:
            return str(update.callback_query.message.chat.id), update.callback_query.data or ""
        message = update.edited_message if self._is_edited_message(update) else update.message
        if message is None or message.chat is None:
            return None  # e.g. the bot was added to a group: nothing to answer
        if self._is_user_message(message):
            return str(message.chat.id), message.text.replace("/bot", "")
        if self._is_location(message):
            return str(
                message.chat.id
            ), f'{{"lng":{message.location.longitude}, "lat":{message.location.latitude}}}'
        return None

    async def _deliver(
        self,
        chat_id: str,
        text: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        metadata: dict[str, Any] | None,
    ) -> None:
        output = self.get_output_channel()
        # Telegram's /restart convention: restart, then greet as a new chat.
        texts = [text, "/start"] if text == INTENT_MESSAGE_PREFIX + USER_INTENT_RESTART else [text]
        for each in texts:
            await on_new_message(
                UserMessage(each, output, chat_id, input_channel=self.name(), metadata=metadata)
            )
