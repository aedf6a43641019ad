"""Action test fixtures: a tracker builder, a dispatcher, the CRM faked at the HTTP boundary,
and an outbox of the test's own (never the action server's shared one)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions import base, recent_orders, verification
from actions import outbox as outbox_module
from actions.crm_client import CrmClient
from actions.outbox import Outbox
from actions.settings import ActionSettings

Handler = Callable[[httpx.Request], httpx.Response]
Route = httpx.Response | Handler
A = TypeVar("A", bound=base.UsesCrm)

SENDER_ID = "test-sender"

# The actions under test read nothing from the domain but the forms' slots.
EMPTY_DOMAIN: DomainDict = {
    "intents": [],
    "entities": [],
    "slots": {},
    "responses": {},
    "actions": [],
    "forms": {},
}
# The forms as bot/domain.yml declares them: FormValidationAction compares its required
# slots with these to decide whether it names the next slot to ask itself.
FORMS_DOMAIN: DomainDict = {
    **EMPTY_DOMAIN,
    "forms": {
        "order_lookup_form": {"required_slots": ["order_number", "email"]},
        "ticket_lookup_form": {"required_slots": ["ticket_number", "email"]},
        "address_form": {"required_slots": ["address_line1", "address_postal_code", "address_city"]},
        "details_form": {"required_slots": ["ticket_category", "details", "new_contact", "email"]},
    },
}


def user(
    text: str = "", intent: str = "inform", *, channel: str | None = "rest", entities: Iterable[Any] = ()
) -> dict[str, Any]:
    """A UserUttered event as the action server receives it."""
    return {
        "event": "user",
        "timestamp": None,
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": list(entities),
        },
        "input_channel": channel,
    }


def bot(text: str = "") -> dict[str, Any]:
    return {"event": "bot", "timestamp": None, "text": text, "data": {}}


def earlier_messages(count: int) -> list[dict[str, Any]]:
    """`count` customer messages (and the bot's answers) before the latest one."""
    return [event for n in range(count) for event in (user(f"message {n}"), bot(f"answer {n}"))]


def make_tracker(
    slots: Mapping[str, Any] | None = None,
    *,
    history: Iterable[dict[str, Any]] = (),
    text: str = "",
    intent: str = "inform",
    channel: str | None = "rest",
    candidates: Mapping[str, Any] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    """The tracker the action server receives after the customer wrote `text`.

    `history` holds the events before that message (see `earlier_messages`), so the
    message is the customer's (number of user events in history + 1)th. `candidates` are
    the slot values the form extracted from it: Rasa sends them both as slots and as the
    SlotSet events that end the tracker, which is how a validation action finds them.
    """
    latest = user(text, intent, channel=channel)
    candidate_events = [
        {"event": "slot", "timestamp": None, "name": name, "value": value}
        for name, value in (candidates or {}).items()
    ]
    return Tracker(
        sender_id=SENDER_ID,
        slots={**(slots or {}), **(candidates or {})},
        latest_message=latest["parse_data"],
        events=[*history, latest, *candidate_events],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str | None]:
    """The names of the responses the action said, in order."""
    return [message["response"] for message in dispatcher.messages]


def slots_set(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slot values the events set (the last one wins)."""
    return {event["name"]: event["value"] for event in events if event["event"] == "slot"}


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


# What crm_down() offers: a message kept for the team, or a person.
CRM_DOWN_BUTTONS = [
    {"title": "Leave a message", "payload": "/open_ticket"},
    {"title": "Talk to a person", "payload": "/contact_human_agent"},
]


def disabled_outbox() -> Outbox:
    """An outbox without Redis, as the action server has without REDIS_URL: it keeps nothing."""
    return Outbox(None, "test")


@pytest.fixture
def outbox() -> Outbox:
    return disabled_outbox()


def given_outbox(action: A, outbox: Outbox) -> A:
    """`action`, given `outbox` although its constructor does not take one (ActionHandoff,
    ActionResolveConfirmation), so that its `run` does not reach for the shared outbox."""
    action._outbox = outbox
    return action


@pytest.fixture(autouse=True)
async def no_identity_attachment_left_running() -> AsyncIterator[None]:
    """An identity attachment a test's form started in the background ends with that test."""
    yield
    await verification.identity_attachments_done()


@pytest.fixture(autouse=True)
def no_recently_verified_orders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no order verified moments ago by another test's form (same sender)."""
    fresh = recent_orders.RecentlyVerifiedOrders()
    for module in ("actions.recent_orders", "actions.verification", "actions.orders"):
        monkeypatch.setattr(f"{module}.recently_verified", fresh)


@pytest.fixture(autouse=True)
def no_shared_outbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Unit tests never touch the action server's outbox: with REDIS_URL set it would keep
    tickets in (and deliver them from) a real Redis, with the real CRM client.

    Every action under test is given an outbox (`outbox=`, `given_outbox`); one that reaches
    for `shared_outbox()` fails the test instead of creating it.
    """
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(outbox_module, "_shared_outbox", None)

    def refuse() -> Outbox:
        pytest.fail("an action under test reached for shared_outbox(): give it an outbox")

    monkeypatch.setattr(base, "shared_outbox", refuse)
    yield
    assert outbox_module._shared_outbox is None, "a test created the shared outbox"


class FakeCrm:
    """Records requests and answers them: the CRM's HTTP boundary.

    Either one handler for every request (`answer`) or one answer per (method, path)
    (`route`); a request nobody expected gets a 418, which the client treats as an outage.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler = lambda request: httpx.Response(500)

    def answer(self, handler: Handler) -> None:
        self.handler = handler

    def route(self, routes: Mapping[tuple[str, str], Route]) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            found = routes.get((request.method, request.url.path))
            if found is None:
                return httpx.Response(418, json={"error": "unexpected_request", "detail": request.url.path})
            return found if isinstance(found, httpx.Response) else found(request)

        self.handler = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def calls(self) -> list[tuple[str, str]]:
        return [(request.method, request.url.path) for request in self.requests]

    def json_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def refusal(code: str, detail: str) -> httpx.Response:
    """The CRM's 409: a business rule said no."""
    return httpx.Response(409, json={"error": code, "detail": detail})


def not_found(code: str = "not_found") -> httpx.Response:
    return httpx.Response(404, json={"error": code, "detail": "No match."})


def connection_refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


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
    """A CRM OrderRead body for a shipped order, with datetimes written as the CRM writes them."""
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
        "returns": [],
        "refunds": [],
        "can_cancel": False,
        "return_window_ends": None,
    }
    body.update(overrides)
    return body


def refund_json(status: str = "pending", amount_cents: int = 15980) -> dict[str, Any]:
    return {
        "id": 7,
        "amount_cents": amount_cents,
        "currency": "EUR",
        "status": status,
        "reason": "order cancelled",
        "created_at": "2026-12-03T10:00:00Z",
        "completed_at": None,
    }


def return_json(number: str = "RMA-000042", status: str = "requested") -> dict[str, Any]:
    return {
        "number": number,
        "status": status,
        "reason": "wrong size",
        "items": [],
        "requested_at": "2026-12-01T10:00:00Z",
        "received_at": None,
        "resolved_at": None,
    }
