"""Messenger's Send API, called off the event loop.

Rasa's MessengerBot calls fbmessenger, whose client uses blocking `requests`: each call
(four per turn: seen, typing on, the reply, typing off) would stall every conversation the
Rasa process is handling. Here each call runs in a worker thread, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from fbmessenger.attachments import Image
from fbmessenger.elements import Text as FBText
from fbmessenger.sender_actions import SenderAction
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.facebook import Messenger, MessengerBot

logger = logging.getLogger(__name__)

# The button template takes three buttons; quick replies take thirteen.
MAX_TEMPLATE_BUTTONS = 3
MAX_QUICK_REPLIES = 13


class PageBot(MessengerBot):
    """Rasa's Messenger output channel with non-blocking Send API calls."""

    async def _send(self, message: Any, recipient_id: str) -> None:
        await asyncio.to_thread(self.messenger_client.send, message, recipient_id, "RESPONSE")

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Each paragraph as its own message, as Rasa's connector does."""
        for part in text.strip().split("\n\n"):
            await self._send(FBText(text=part).to_dict(), recipient_id)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """An image attachment."""
        await self._send(Image(url=image).to_dict(), recipient_id)

    async def send_action(self, recipient_id: str, sender_action: str) -> None:
        """A sender action: mark_seen, typing_on, typing_off."""
        action = SenderAction(sender_action).to_dict()
        await asyncio.to_thread(self.messenger_client.send_action, action, recipient_id)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """A button template; more than three buttons become quick replies (Rasa drops them)."""
        if len(buttons) > MAX_TEMPLATE_BUTTONS:
            replies = [
                {"title": b["title"], "payload": b["payload"], "content_type": "text"} for b in buttons
            ]
            await self.send_quick_replies(recipient_id, text, replies[:MAX_QUICK_REPLIES])
            return
        self._add_postback_info(buttons)
        template = {"template_type": "button", "text": text, "buttons": buttons}
        await self._send({"attachment": {"type": "template", "payload": template}}, recipient_id)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Text with quick-reply chips."""
        message = FBText(text=text, quick_replies=self._convert_to_quick_reply(quick_replies))
        await self._send(message.to_dict(), recipient_id)

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        """A generic template (cards)."""
        cards = list(elements)
        for card in cards:
            self._add_postback_info(card.get("buttons", []))
        template = {"template_type": "generic", "elements": cards}
        await self._send({"attachment": {"type": "template", "payload": template}}, recipient_id)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any] | list[Any], **kwargs: Any
    ) -> None:
        """A raw Send API message; a "sender" in it names another recipient, as in Rasa."""
        if isinstance(json_message, dict) and "sender" in json_message:
            recipient_id = json_message.pop("sender", {}).pop("id", recipient_id)
        await self._send(json_message, recipient_id)


class PageMessenger(Messenger):
    """Rasa's webhook event handling, answering through PageBot."""

    async def _handle_user_message(self, text: str, sender_id: str, metadata: dict[str, Any] | None) -> None:
        out_channel = PageBot(self.client)
        await out_channel.send_action(sender_id, sender_action="mark_seen")
        await out_channel.send_action(sender_id, sender_action="typing_on")
        try:
            await self.on_new_message(
                UserMessage(text, out_channel, sender_id, input_channel=self.name(), metadata=metadata)
            )
        except Exception:
            # Answering 200 anyway: Meta retries failed deliveries, which would repeat the turn.
            logger.exception("messenger: the bot failed on a message from %s", sender_id)
        finally:
            await out_channel.send_action(sender_id, sender_action="typing_off")
