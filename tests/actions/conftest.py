"""Action test fixtures: a tracker builder, a dispatcher, and the CRM faked at the HTTP boundary."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions.crm_client import CrmClient
from actions.settings import ActionSettings

Handler = Callable[[httpx.Request], httpx.Response]

# The actions under test read nothing from the domain.
EMPTY_DOMAIN: DomainDict = {
    "intents": [],
    "entities": [],
    "slots": {},
    "responses": {},
    "actions": [],
    "forms": {},
}


def make_tracker(
    slots: dict[str, Any] | None = None,
    *,
    active_loop: str | None = None,
    text: str = "",
    intent: str = "inform",
) -> Tracker:
    """A tracker holding `slots` after the customer wrote `text`, as the action server receives it."""
    return Tracker(
        sender_id="test-sender",
        slots=slots or {},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


class FakeCrm:
    """Records requests and answers them with a handler: the CRM's HTTP boundary."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler = lambda request: httpx.Response(500)

    def answer(self, handler: Handler) -> None:
        self.handler = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def json_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture
def fake_crm() -> FakeCrm:
    return FakeCrm()


@pytest.fixture
def crm(fake_crm: FakeCrm) -> CrmClient:
    settings = ActionSettings(
        crm_url="http://crm.test", crm_service_token="token-for-tests", crm_timeout_seconds=3
    )
    return CrmClient(settings, transport=httpx.MockTransport(fake_crm))


def order_json(**overrides: Any) -> dict[str, Any]:
    """A CRM OrderRead body for a shipped order."""
    body: dict[str, Any] = {
        "number": "ORD-100001",
        "customer_id": 1,
        "email": "alice.martin@example.com",
        "status": "shipped",
        "currency": "EUR",
        "total_cents": 15980,
        "shipping_address": {
            "name": "Alice Martin",
            "line1": "12 Rue X",
            "line2": None,
            "city": "Lyon",
            "postal_code": "69002",
            "country": "FR",
        },
        "placed_at": "2026-11-20T10:00:00Z",
        "items": [{"sku": "JNS-SLIM", "name": "Slim-fit jeans", "quantity": 2, "unit_price_cents": 7990}],
        "shipments": [
            {
                "carrier": "DHL",
                "tracking_number": "DH8274660859",
                "tracking_url": "https://www.dhl.com/track?id=DH8274660859",
                "estimated_delivery": "2026-11-26",
                "shipped_at": "2026-11-21T09:00:00Z",
                "delivered_at": None,
            }
        ],
        "status_history": [],
    }
    body.update(overrides)
    return body
