"""The order the form just verified is answered from by action_order_request, once and only fresh."""

from __future__ import annotations

import httpx

from actions.crm_client import Order
from actions.orders import ActionOrderRequest
from actions.recent_orders import RecentlyVerifiedOrders
from actions.verification import ValidateOrderLookupForm
from tests.actions.conftest import (
    EMPTY_DOMAIN,
    FORMS_DOMAIN,
    disabled_outbox,
    make_tracker,
    order_json,
    slots_set,
)

EMAIL = "alice.martin@example.com"
LOOKUP = ("POST", "/api/orders/lookup")
RESOLVE = ("POST", "/api/customers/resolve")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


ORDER = Order.from_api(order_json())


def test_an_order_is_taken_once():
    orders = RecentlyVerifiedOrders()
    orders.remember("alice", "ORD-100001", ORDER)

    assert orders.take("alice", "ORD-100001") is ORDER
    assert orders.take("alice", "ORD-100001") is None


def test_another_conversation_or_number_gets_nothing():
    orders = RecentlyVerifiedOrders()
    orders.remember("alice", "ORD-100001", ORDER)

    assert orders.take("bob", "ORD-100001") is None
    assert orders.take("alice", "ORD-100002") is None
    assert orders.take("alice", "ORD-100001") is ORDER


def test_a_stale_order_is_not_used():
    clock = Clock()
    orders = RecentlyVerifiedOrders(fresh_seconds=5, clock=clock)
    orders.remember("alice", "ORD-100001", ORDER)
    clock.now += 5.1

    assert orders.take("alice", "ORD-100001") is None


def test_the_oldest_orders_make_room():
    orders = RecentlyVerifiedOrders(max_orders=2)
    for sender in ("a", "b", "c"):
        orders.remember(sender, "ORD-100001", ORDER)

    assert [orders.take(s, "ORD-100001") is not None for s in ("a", "b", "c")] == [False, True, True]


async def test_the_order_turn_asks_the_crm_for_the_order_once(crm, fake_crm, dispatcher):
    fake_crm.route(
        {
            LOOKUP: httpx.Response(200, json=order_json(customer_id=42)),
            RESOLVE: httpx.Response(200, json={"customer": {"id": 42}, "created": False}),
        }
    )
    form = ValidateOrderLookupForm(crm)
    tracker = make_tracker(
        candidates={"order_number": "ORD-100001", "email": EMAIL}, active_loop=form.form_name()
    )
    slots = slots_set(await form.run(dispatcher, tracker, FORMS_DOMAIN))
    assert slots["verified_order"] == "ORD-100001"

    after_form = make_tracker({**slots, "request": "track"})
    await ActionOrderRequest(crm, outbox=disabled_outbox()).run(dispatcher, after_form, EMPTY_DOMAIN)

    assert fake_crm.calls().count(LOOKUP) == 1
    assert dispatcher.messages[-2]["response"] == "utter_order_status"


async def test_a_later_turn_reads_the_order_afresh(crm, fake_crm, dispatcher):
    fake_crm.route({LOOKUP: httpx.Response(200, json=order_json(status="delivered"))})
    verified = {"verified_order": "ORD-100001", "order_number": "ORD-100001", "email": EMAIL}
    action = ActionOrderRequest(crm, outbox=disabled_outbox())

    await action.run(dispatcher, make_tracker({**verified, "request": "track"}), EMPTY_DOMAIN)
    await action.run(dispatcher, make_tracker({**verified, "request": "track"}), EMPTY_DOMAIN)

    assert fake_crm.calls() == [LOOKUP, LOOKUP]
