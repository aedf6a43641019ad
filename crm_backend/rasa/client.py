"""A typed client for the part of Rasa's HTTP API the CRM uses: appending tracker events."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import Depends, Request

from crm_backend.core.errors import DomainError
from crm_backend.core.types import utcnow

logger = logging.getLogger(__name__)

# What the customer sees when an agent hands the conversation back, and after closing.
BACK_WITH_THE_BOT = "You're back with the assistant. Is there anything else I can help you with?"
CSAT_QUESTION = "How satisfied are you with the help you got? (1 = not at all, 5 = very)"


class RasaUnavailable(DomainError):
    status_code = 503
    error = "rasa_unavailable"


class RasaClient:
    """Sends events to conversations: Rasa records them and delivers bot lines on the customer's channel."""

    def __init__(
        self, base_url: str, *, token: str | None, timeout: float, http: httpx.AsyncClient | None = None
    ):
        self._token = token
        self._http = http or httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events to the tracker and send its bot lines on the conversation's latest channel."""
        params = {"execute_side_effects": "true", "output_channel": "latest", "include_events": "NONE"}
        if self._token:
            params["token"] = self._token
        try:
            response = await self._http.post(
                f"/conversations/{quote(sender_id, safe='')}/tracker/events", params=params, json=events
            )
        except httpx.HTTPError as error:
            logger.warning("Rasa unreachable for %s: %r", sender_id, error)
            raise RasaUnavailable(
                "The assistant (Rasa) cannot be reached; nothing was sent. Try again."
            ) from error
        if response.status_code >= 400:
            logger.warning(
                "Rasa refused events for %s: %s %s", sender_id, response.status_code, response.text[:300]
            )
            raise RasaUnavailable(
                f"The assistant (Rasa) refused the message ({response.status_code}); nothing was sent."
            )

    async def send_typing(self, sender_id: str, *, typing: bool) -> bool:
        """Show or hide the agent's typing indicator in the customer's widget; whether Rasa took it.

        Best-effort and never recorded: bot/channels/socketio.py emits it to the sender's room.
        """
        try:
            response = await self._http.post(
                "/webhooks/socketio/typing",
                params={"token": self._token} if self._token else None,
                json={"sender_id": sender_id, "typing": typing},
            )
        except httpx.HTTPError as error:
            logger.info("typing indicator not sent for %s: %r", sender_id, error)
            return False
        if response.status_code >= 400:
            logger.info("typing indicator refused for %s: %s", sender_id, response.status_code)
        return response.status_code < 400


def agent_line(text: str, *, event_id: str, agent_id: int, agent_name: str) -> dict[str, Any]:
    """A `bot` event carrying an agent's reply; the metadata lets the CRM recognise its echo."""
    return {
        "event": "bot",
        "text": text,
        "timestamp": utcnow().timestamp(),
        "metadata": {"crm_event_id": event_id, "agent_id": agent_id, "agent_name": agent_name},
    }


def _listen(timestamp: float) -> dict[str, Any]:
    # The bot was paused inside its handoff action; its rules expect each customer turn to
    # follow action_listen, so without this the next message would meet a fallback.
    return {"event": "action", "name": "action_listen", "timestamp": timestamp}


def hand_back_events() -> list[dict[str, Any]]:
    """Resume the bot, tell the customer, and listen."""
    now = utcnow().timestamp()
    return [
        {"event": "resume", "timestamp": now},
        {"event": "bot", "text": BACK_WITH_THE_BOT, "timestamp": now},
        _listen(now),
    ]


def satisfaction_events() -> list[dict[str, Any]]:
    """Resume the bot, ask the satisfaction question (buttons 1 to 5), and listen."""
    now = utcnow().timestamp()
    buttons = [{"title": str(n), "payload": f'/rate_service{{"csat_score": {n}}}'} for n in range(1, 6)]
    return [
        {"event": "resume", "timestamp": now},
        {"event": "bot", "text": CSAT_QUESTION, "data": {"buttons": buttons}, "timestamp": now},
        _listen(now),
    ]


def new_event_id() -> str:
    """An id for a message the CRM sends through Rasa."""
    return uuid.uuid4().hex


async def get_rasa(request: Request) -> RasaClient | None:
    """The app's Rasa client; None when CRM_RASA_URL is not set."""
    client: RasaClient | None = getattr(request.app.state, "rasa", None)
    return client


RasaDep = Annotated[RasaClient | None, Depends(get_rasa)]
