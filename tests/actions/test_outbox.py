"""The outbox on a real Redis: tickets the CRM could not take are redis_outbox, then delivered once.

Redis is the one at TEST_REDIS_URL (redis://127.0.0.1:6379/0 by default); each test works
under a key prefix of its own and deletes its keys afterwards. The CRM is faked at the HTTP
boundary, as in the other action tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from actions import crm_client
from actions import outbox as outbox_module
from actions.crm_client import CrmClient
from actions.details import ActionSubmitDetails
from actions.outbox import Outbox
from tests.actions.conftest import (
    CRM_DOWN_BUTTONS,
    EMPTY_DOMAIN,
    SENDER_ID,
    FakeCrm,
    connection_refused,
    make_tracker,
    refusal,
    responses,
    user,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
EMAIL = "alice.martin@example.com"
RESOLVE = ("POST", "/api/customers/resolve")
TICKETS = ("POST", "/api/tickets")


class ManualOutbox(Outbox):
    """An outbox that delivers only when the test calls deliver(): starting the background
    task is recorded instead, so that no delivery races with the test's own."""

    def __init__(self, client: aioredis.Redis | None, key_prefix: str) -> None:
        super().__init__(client, key_prefix)
        self.starts: list[CrmClient | None] = []

    def start_delivery(self, crm: CrmClient | None = None) -> None:
        self.starts.append(crm)


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.close()
        pytest.fail(f"the outbox tests need Redis at {REDIS_URL} (set TEST_REDIS_URL): {exc}")
    yield client
    await client.close()


@pytest.fixture
async def key_prefix(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test-outbox-{uuid.uuid4().hex}"
    yield prefix
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await redis_client.delete(*keys)


@pytest.fixture
def redis_outbox(redis_client: aioredis.Redis, key_prefix: str) -> ManualOutbox:
    """The outbox on real Redis, delivering only when told."""
    return ManualOutbox(redis_client, key_prefix)


@pytest.fixture(autouse=True)
def no_shared_crm(monkeypatch: pytest.MonkeyPatch) -> None:
    """A delivery never falls back on the action server's CRM client (the real CRM)."""

    def refuse() -> CrmClient:
        raise AssertionError("the outbox reached for shared_crm_client()")

    monkeypatch.setattr(crm_client, "shared_crm_client", refuse)


def ticket(description: str = "My parcel never arrived", customer_id: int | None = None) -> dict[str, Any]:
    return {
        "subject": f"Support request: {description}",
        "description": description,
        "category": "shipping",
        "priority": "normal",
        "channel": "web",
        "customer_id": customer_id,
        "conversation_sender_id": SENDER_ID,
    }


async def keep(outbox: Outbox, description: str = "My parcel never arrived", **item: Any) -> bool:
    """Keep a ticket as action_submit_details does when the CRM is down."""
    defaults: dict[str, Any] = {
        "email": EMAIL,
        "channel": "web",
        "sender_id": SENDER_ID,
        "key": f"bot-ticket-{SENDER_ID}-{description}",
    }
    return await outbox.keep(ticket(description, item.pop("customer_id", None)), **{**defaults, **item})


async def items(redis_client: aioredis.Redis, key: str) -> list[dict[str, Any]]:
    """The items in a list, oldest first."""
    return [json.loads(raw) for raw in reversed(await redis_client.lrange(key, 0, -1))]


def created(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, json={"number": f"TCK-{len(request.content):06d}", "status": "new"})


def resolved(customer_id: int = 5) -> httpx.Response:
    return httpx.Response(
        200, json={"customer": {"id": customer_id}, "created": False, "matched_by": "email"}
    )


def ticket_posts(fake_crm: FakeCrm) -> list[httpx.Request]:
    return [request for request in fake_crm.requests if (request.method, request.url.path) == TICKETS]


def descriptions(requests: list[httpx.Request]) -> list[str]:
    return [json.loads(request.content)["description"] for request in requests]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until `check` holds: the background task works on its own time.

    A deadline rather than asyncio.wait_for: cancelling a Redis command may not stop it (see `stop`).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    # Nothing signals the outbox's progress (it lives in Redis): look again and again.
    while not await check():
        assert loop.time() < deadline, f"not done within {timeout}s"
        await asyncio.sleep(0.02)


# --- keeping -------------------------------------------------------------------------------


async def test_a_kept_ticket_waits_in_redis_with_its_email_and_key(redis_outbox, redis_client):
    assert await keep(redis_outbox) is True

    assert await redis_outbox.pending() == 1
    assert await items(redis_client, redis_outbox.key) == [
        {
            "ticket": ticket(),
            "email": EMAIL,
            "channel": "web",
            "sender_id": SENDER_ID,
            "key": f"bot-ticket-{SENDER_ID}-My parcel never arrived",
        }
    ]
    assert redis_outbox.starts == [None]  # keeping (re)starts the delivery


async def test_without_redis_nothing_is_kept(crm, fake_crm):
    outbox = Outbox(None, "test")

    assert outbox.enabled is False
    assert await keep(outbox) is False
    assert await outbox.pending() == 0
    assert await outbox.deliver(crm) == 0
    outbox.start_delivery(crm)
    assert outbox._task is None  # no background task without Redis
    assert fake_crm.requests == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
async def unreachable_redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{closed_port()}/0", socket_connect_timeout=1)
    yield client
    await client.close()


async def test_with_redis_unreachable_keep_says_nothing_was_kept(unreachable_redis):
    outbox = ManualOutbox(unreachable_redis, "test-unreachable")

    assert await keep(outbox) is False
    assert outbox.starts == []


# --- delivering ----------------------------------------------------------------------------


async def test_delivery_finds_the_customer_by_email_then_creates_the_ticket_with_the_kept_key(
    redis_outbox, redis_client, crm, fake_crm
):
    await keep(redis_outbox)
    fake_crm.route({RESOLVE: resolved(5), TICKETS: created})

    assert await redis_outbox.deliver(crm) == 1

    assert fake_crm.calls() == [RESOLVE, TICKETS]
    resolve_body, ticket_body = fake_crm.json_bodies()
    assert resolve_body == {"channel": "web", "external_id": SENDER_ID, "email": EMAIL}
    assert ticket_body == {**ticket(), "customer_id": 5}
    assert (
        fake_crm.requests[1].headers["Idempotency-Key"] == f"bot-ticket-{SENDER_ID}-My parcel never arrived"
    )
    assert await redis_outbox.pending() == 0
    assert await redis_client.llen(redis_outbox.failed_key) == 0


async def test_a_known_customer_is_not_looked_up_again(redis_outbox, crm, fake_crm):
    await keep(redis_outbox, customer_id=3)
    fake_crm.route({TICKETS: created})

    assert await redis_outbox.deliver(crm) == 1

    assert fake_crm.calls() == [TICKETS]
    assert fake_crm.json_bodies()[0]["customer_id"] == 3


@pytest.mark.parametrize(
    "failure", [httpx.Response(503), httpx.Response(401), connection_refused], ids=["503", "401", "refused"]
)
async def test_while_the_crm_is_still_down_the_ticket_stays(
    failure, redis_outbox, redis_client, crm, fake_crm
):
    await keep(redis_outbox)
    before = await redis_client.lrange(redis_outbox.key, 0, -1)
    fake_crm.route({RESOLVE: resolved(), TICKETS: failure})

    assert await redis_outbox.deliver(crm) == 0

    assert await redis_client.lrange(redis_outbox.key, 0, -1) == before
    assert await redis_client.llen(redis_outbox.failed_key) == 0
    # The lock goes with the deliverer: the next try is not locked out.
    fake_crm.route({RESOLVE: resolved(), TICKETS: created})
    assert await redis_outbox.deliver(crm) == 1


async def test_a_failure_midway_keeps_the_rest_in_order(redis_outbox, redis_client, crm, fake_crm):
    for description in ("first", "second", "third"):
        await keep(redis_outbox, description, customer_id=1)
    # The CRM takes the first ticket, then fails on the second.
    fake_crm.route(
        {TICKETS: lambda request: httpx.Response(503) if len(fake_crm.requests) == 2 else created(request)}
    )

    assert await redis_outbox.deliver(crm) == 1

    assert descriptions(ticket_posts(fake_crm)) == ["first", "second"]
    assert [item["ticket"]["description"] for item in await items(redis_client, redis_outbox.key)] == [
        "second",
        "third",
    ]

    assert await redis_outbox.deliver(crm) == 2

    assert descriptions(ticket_posts(fake_crm)) == ["first", "second", "second", "third"]
    assert await redis_outbox.pending() == 0


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(422, json={"error": "validation_error", "detail": [{"msg": "too long"}]}),
        refusal("order_not_owned", "Order ORD-100001 does not belong to customer 5."),
    ],
    ids=["422-rejected", "409-refused"],
)
async def test_a_ticket_the_crm_will_never_take_is_parked_and_the_rest_delivered(
    answer, redis_outbox, redis_client, crm, fake_crm
):
    await keep(redis_outbox, "cannot be stored", customer_id=1)
    await keep(redis_outbox, "fine", customer_id=1)
    fake_crm.route(
        {TICKETS: lambda request: answer if b"cannot be stored" in request.content else created(request)}
    )

    assert await redis_outbox.deliver(crm) == 1

    assert await redis_outbox.pending() == 0
    parked = await items(redis_client, redis_outbox.failed_key)
    assert [item["ticket"]["description"] for item in parked] == ["cannot be stored"]
    assert (
        parked[0]["key"] == f"bot-ticket-{SENDER_ID}-cannot be stored"
    )  # redis_outbox for a person to retry
    assert descriptions(ticket_posts(fake_crm)) == ["cannot be stored", "fine"]


async def test_while_another_deliverer_holds_the_lock_nothing_is_delivered(
    redis_outbox, redis_client, key_prefix, crm, fake_crm
):
    await keep(redis_outbox, customer_id=1)
    fake_crm.route({TICKETS: created})
    await redis_client.set(f"{key_prefix}:outbox:lock", "another process", ex=30)

    assert await redis_outbox.deliver(crm) == 0

    assert fake_crm.requests == []
    assert await redis_outbox.pending() == 1


async def test_two_deliveries_at_once_send_each_ticket_once(redis_outbox, crm, fake_crm):
    for description in ("first", "second", "third"):
        await keep(redis_outbox, description, customer_id=1)
    fake_crm.route({TICKETS: created})

    counts = await asyncio.gather(redis_outbox.deliver(crm), redis_outbox.deliver(crm))

    assert sorted(counts) == [0, 3]
    assert descriptions(ticket_posts(fake_crm)) == ["first", "second", "third"]
    assert await redis_outbox.pending() == 0


# --- the background task -------------------------------------------------------------------


@pytest.fixture
async def delivering(
    redis_client: aioredis.Redis, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Outbox]:
    """An outbox whose background task really runs, every 20 ms; stopped afterwards."""
    monkeypatch.setattr(outbox_module, "DELIVERY_INTERVAL_SECONDS", 0.02)
    outbox = Outbox(redis_client, key_prefix)
    yield outbox
    if outbox._task is not None:
        await stop(outbox._task)


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel the delivery loop, again if need be: redis 4.6 can swallow a cancellation that
    lands inside a command (its async_timeout, redis/redis-py#2551), and the loop goes on."""
    for _ in range(100):
        if task.done():
            break
        task.cancel()
        await asyncio.wait({task}, timeout=0.05)
    assert task.done(), "the delivery loop would not stop"
    if not task.cancelled() and task.exception() is not None:
        raise AssertionError("the delivery loop died") from task.exception()


async def test_the_background_task_delivers_once_the_crm_is_back(delivering, crm, fake_crm):
    taken: list[httpx.Request] = []

    def take(request: httpx.Request) -> httpx.Response:
        taken.append(request)
        return created(request)

    fake_crm.route({TICKETS: httpx.Response(503)})
    delivering.start_delivery(crm)  # as every action's run does
    await keep(delivering, customer_id=1)

    await eventually(lambda: _tried(fake_crm, 2))  # tried, and tried again, while the CRM was down
    assert await delivering.pending() == 1

    fake_crm.route({TICKETS: take})
    await eventually(lambda: _pending_is(delivering, 0))
    await asyncio.sleep(0.1)  # a few more rounds: nothing is sent twice

    assert len(taken) == 1
    assert taken[0].headers["Idempotency-Key"] == f"bot-ticket-{SENDER_ID}-My parcel never arrived"
    assert delivering._task is not None
    assert not delivering._task.done()  # still watching for the next one


async def _tried(fake_crm: FakeCrm, times: int) -> bool:
    return len(fake_crm.requests) >= times


async def _pending_is(outbox: Outbox, count: int) -> bool:
    return await outbox.pending() == count


async def test_the_background_task_survives_an_answer_it_cannot_read(delivering, crm, fake_crm):
    # A 200 that is not a ticket (a proxy's page, a CRM bug): not delivered, tried again later.
    fake_crm.route({TICKETS: httpx.Response(200, json={"unexpected": True})})
    delivering.start_delivery(crm)
    await keep(delivering, customer_id=1)
    await eventually(lambda: _tried(fake_crm, 2))

    fake_crm.route({TICKETS: created})
    await eventually(lambda: _pending_is(delivering, 0))


async def test_the_background_task_is_started_once(delivering, crm):
    delivering.start_delivery(crm)
    first = delivering._task
    delivering.start_delivery(crm)

    assert delivering._task is first


# --- action_submit_details while the CRM is down ---------------------------------------------

TICKET_SLOTS = {
    "request": "ticket",
    "ticket_category": "shipping",
    "details": "My parcel never arrived",
    "email": EMAIL,
}


async def submit_while_down(crm, dispatcher, outbox: Outbox) -> list[dict[str, Any]]:
    action = ActionSubmitDetails(crm, outbox=outbox)
    return await action.run(dispatcher, make_tracker(TICKET_SLOTS), EMPTY_DOMAIN)


async def test_a_ticket_written_while_the_crm_is_down_is_kept_then_delivered_once(
    redis_outbox, redis_client, crm, fake_crm, dispatcher
):
    fake_crm.answer(lambda request: httpx.Response(503))

    events = await submit_while_down(crm, dispatcher, redis_outbox)

    assert responses(dispatcher) == ["utter_ticket_kept"]
    assert dispatcher.messages[0]["reply_to"] == "a***@example.com"
    assert [event["name"] for event in events] == ["details", "ticket_category", "new_contact", "request"]
    assert redis_outbox.starts[0] is crm  # the action (re)started the delivery with its own client
    (item,) = await items(redis_client, redis_outbox.key)
    assert item["email"] == EMAIL
    assert item["ticket"]["description"] == "My parcel never arrived"
    assert item["ticket"]["subject"] == "Support request: My parcel never arrived"
    assert (item["ticket"]["category"], item["ticket"]["priority"]) == ("shipping", "normal")
    assert (item["ticket"]["channel"], item["ticket"]["conversation_sender_id"]) == ("web", SENDER_ID)
    assert item["ticket"]["customer_id"] is None  # resolved at delivery, from the email
    assert item["key"] == f"bot-ticket-{SENDER_ID}-1"
    # Any attempt made while the CRM was down used the key the delivery will use.
    assert {request.headers["Idempotency-Key"] for request in ticket_posts(fake_crm)} <= {item["key"]}

    # The CRM is back.
    fake_crm.requests.clear()
    fake_crm.route({RESOLVE: resolved(5), TICKETS: created})

    assert await redis_outbox.deliver(crm) == 1
    assert await redis_outbox.deliver(crm) == 0

    (posted,) = ticket_posts(fake_crm)
    assert posted.headers["Idempotency-Key"] == f"bot-ticket-{SENDER_ID}-1"
    assert json.loads(posted.content) == {**item["ticket"], "customer_id": 5}
    assert await redis_outbox.pending() == 0


async def test_with_redis_unreachable_the_customer_is_told_the_crm_is_down(
    unreachable_redis, crm, fake_crm, dispatcher
):
    fake_crm.answer(lambda request: httpx.Response(503))

    events = await submit_while_down(crm, dispatcher, ManualOutbox(unreachable_redis, "test-unreachable"))

    assert responses(dispatcher) == ["utter_crm_unavailable"]
    assert dispatcher.messages[0]["buttons"] == CRM_DOWN_BUTTONS
    assert [event["name"] for event in events] == ["details", "ticket_category", "new_contact", "request"]


async def test_a_person_asked_for_while_the_crm_is_down_gets_the_message_kept(
    redis_outbox, redis_client, crm, fake_crm, dispatcher
):
    # The handoff failed (utter_handoff_unavailable) and the details form collected the email.
    fake_crm.answer(lambda request: httpx.Response(503))
    tracker = make_tracker(
        {"request": "offline_handoff", "email": EMAIL}, history=[user("where is my parcel?", "track_order")]
    )

    await ActionSubmitDetails(crm, outbox=redis_outbox).run(dispatcher, tracker, EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_ticket_kept"]
    (item,) = await items(redis_client, redis_outbox.key)
    assert item["ticket"]["category"] == "other"
    assert "where is my parcel?" in item["ticket"]["description"]
    assert item["email"] == EMAIL


async def test_only_tickets_are_kept_a_contact_change_waits_for_the_crm(
    redis_outbox, crm, fake_crm, dispatcher
):
    fake_crm.answer(lambda request: httpx.Response(503))
    slots = {"request": "contact", "customer_id": "1", "new_contact": "new.address@example.com"}

    await ActionSubmitDetails(crm, outbox=redis_outbox).run(dispatcher, make_tracker(slots), EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_crm_unavailable"]
    assert await redis_outbox.pending() == 0
