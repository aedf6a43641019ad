"""CrmClient: the HTTP it speaks and how every CRM failure becomes one exception the actions handle."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from actions import crm_client
from actions.crm_client import (
    CrmClient,
    CrmUnavailable,
    Order,
    OrderNotFound,
    Refused,
    Rejected,
    TicketNotFound,
)
from actions.settings import ActionSettings
from tests.actions.conftest import order_json, refund_json, refusal, return_json

PROOF = {"email": "alice.martin@example.com"}


def raising(exception: type[httpx.TransportError]):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exception("boom", request=request)

    return handler


OUTAGES = pytest.mark.parametrize(
    "failure",
    [
        raising(httpx.ConnectError),
        raising(httpx.ConnectTimeout),
        raising(httpx.ReadTimeout),
        raising(httpx.RemoteProtocolError),
        lambda request: httpx.Response(500, json={"error": "internal_error"}),
        lambda request: httpx.Response(502, text="<html>bad gateway</html>"),
        lambda request: httpx.Response(503),
        lambda request: httpx.Response(401, json={"error": "unauthorized", "detail": "bad token"}),
        lambda request: httpx.Response(403, json={"error": "forbidden", "detail": "agents only"}),
    ],
    ids=["connect", "connect-timeout", "read-timeout", "protocol", "500", "502", "503", "401", "403"],
)


@OUTAGES
async def test_outages_and_a_rejected_token_are_unavailability(failure, crm, fake_crm):
    fake_crm.answer(failure)

    with pytest.raises(CrmUnavailable):
        await crm.lookup_order(order_number="ORD-100001", proof=PROOF)


@OUTAGES
async def test_writes_fail_the_same_way(failure, crm, fake_crm):
    fake_crm.answer(failure)

    with pytest.raises(CrmUnavailable):
        await crm.update_customer(1, {"phone": "+44 7700 900123"})


async def test_a_conflict_is_a_refusal_with_the_crms_code_and_detail(crm, fake_crm):
    fake_crm.answer(lambda request: refusal("order_already_shipped", "Order ORD-100001 has already shipped."))

    with pytest.raises(Refused) as refused:
        await crm.cancel_order(order_number="ORD-100001", proof=PROOF, idempotency_key="k")

    assert (refused.value.code, refused.value.detail) == (
        "order_already_shipped",
        "Order ORD-100001 has already shipped.",
    )


async def test_a_conflict_without_the_usual_body_is_still_a_refusal(crm, fake_crm):
    fake_crm.answer(lambda request: httpx.Response(409, text="conflict"))

    with pytest.raises(Refused) as refused:
        await crm.update_customer(1, {"email": "a@example.com"})

    assert (refused.value.code, refused.value.detail) == ("unknown", "conflict")


@pytest.mark.parametrize(
    "call",
    [
        lambda crm: crm.update_customer(1, {"phone": "x"}),
        lambda crm: crm.create_ticket({"subject": ""}, idempotency_key="k"),
        lambda crm: crm.add_ticket_comment(number="TCK-000001", text=""),
        lambda crm: crm.request_handoff(
            sender_id="s", reason="r", channel="web", customer_id=None, summary={}
        ),
    ],
    ids=["customer", "ticket", "comment", "handoff"],
)
async def test_an_unprocessable_value_is_rejected(call, crm, fake_crm):
    fake_crm.answer(lambda request: httpx.Response(422, json={"error": "validation_error", "detail": []}))

    with pytest.raises(Rejected):
        await call(crm)


async def test_an_unexpected_status_is_unavailability(crm, fake_crm):
    fake_crm.answer(lambda request: httpx.Response(404, json={"error": "customer_not_found", "detail": "x"}))

    with pytest.raises(CrmUnavailable, match="unexpected status 404"):
        await crm.update_customer(99, {"marketing_consent": True})


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_a_failed_order_lookup_is_not_found(status, crm, fake_crm):
    fake_crm.answer(lambda request: httpx.Response(status, json={"error": "x", "detail": "y"}))

    with pytest.raises(OrderNotFound):
        await crm.lookup_order(order_number="ORD-100001", proof=PROOF)


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_a_failed_ticket_lookup_is_not_found(status, crm, fake_crm):
    fake_crm.answer(lambda request: httpx.Response(status, json={"error": "x", "detail": "y"}))

    with pytest.raises(TicketNotFound):
        await crm.lookup_ticket(number="TCK-000001", proof=PROOF)


@pytest.mark.parametrize(
    "call",
    [
        lambda crm: crm.cancel_order(order_number="ORD-1", proof=PROOF, idempotency_key="k"),
        lambda crm: crm.change_shipping_address(order_number="ORD-1", proof=PROOF, address={}),
        lambda crm: crm.start_return(order_number="ORD-1", proof=PROOF, reason="r", idempotency_key="k"),
    ],
    ids=["cancel", "address", "return"],
)
async def test_a_change_to_an_unknown_order_is_not_found(call, crm, fake_crm):
    fake_crm.answer(lambda request: httpx.Response(404, json={"error": "order_not_found", "detail": "x"}))

    with pytest.raises(OrderNotFound):
        await call(crm)


async def test_a_comment_on_an_unknown_ticket_is_not_found(crm, fake_crm):
    fake_crm.answer(lambda request: httpx.Response(404, json={"error": "ticket_not_found", "detail": "x"}))

    with pytest.raises(TicketNotFound):
        await crm.add_ticket_comment(number="TCK-000001", text="hello")


async def test_requests_carry_the_service_token_and_idempotency_keys_only_when_given(crm, fake_crm):
    fake_crm.answer(lambda request: httpx.Response(200, json=order_json(status="cancelled")))

    await crm.lookup_order(order_number="ORD-100001", proof=PROOF)
    await crm.cancel_order(order_number="ORD-100001", proof=PROOF, idempotency_key="bot-cancel-1")

    lookup, cancel = fake_crm.requests
    assert str(lookup.url) == "http://crm.test/api/orders/lookup"
    assert lookup.headers["Authorization"] == cancel.headers["Authorization"] == "Bearer token-for-tests"
    assert "Idempotency-Key" not in lookup.headers
    assert cancel.headers["Idempotency-Key"] == "bot-cancel-1"


async def test_numbers_are_escaped_in_paths(crm, fake_crm):
    fake_crm.answer(lambda request: httpx.Response(201, json={"id": 1}))

    await crm.add_ticket_comment(number="TCK-1/../admin", text="hi")

    assert fake_crm.requests[0].url.raw_path == b"/api/tickets/TCK-1%2F..%2Fadmin/comments"


async def test_a_return_reason_is_cut_to_what_the_crm_stores(crm, fake_crm):
    fake_crm.answer(lambda request: httpx.Response(201, json=return_json()))

    opened = await crm.start_return(order_number="ORD-1", proof=PROOF, reason="x" * 600, idempotency_key="k")

    assert len(fake_crm.json_bodies()[0]["reason"]) == 500
    assert opened.requested_at == datetime(2026, 12, 1, 10, tzinfo=timezone.utc)


def test_orders_read_the_crms_utc_timestamps():
    # The CRM (pydantic) writes UTC as "...Z", which Python 3.10's fromisoformat does not read.
    body = order_json(
        status="delivered",
        return_window_ends="2026-12-24T15:00:00Z",
        returns=[return_json()],
        refunds=[{**refund_json("completed"), "completed_at": "2026-12-05T08:30:00.123456Z"}],
    )
    body["shipments"][0]["delivered_at"] = "2026-11-24T15:00:00Z"

    order = Order.from_api(body)

    assert order.return_window_ends == datetime(2026, 12, 24, 15, tzinfo=timezone.utc)
    assert order.shipments[0].delivered_at == datetime(2026, 11, 24, 15, tzinfo=timezone.utc)
    assert order.returns[0].requested_at == datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
    assert order.refunds[0].created_at == datetime(2026, 12, 3, 10, tzinfo=timezone.utc)
    assert order.refunds[0].completed_at == datetime(2026, 12, 5, 8, 30, 0, 123456, tzinfo=timezone.utc)


def test_orders_read_offsets_too():
    body = order_json(return_window_ends="2026-12-24T16:00:00+01:00")

    assert Order.from_api(body).return_window_ends == datetime(2026, 12, 24, 15, tzinfo=timezone.utc)


async def test_a_customer_is_resolved_without_an_email_when_none_is_known(crm, fake_crm):
    fake_crm.answer(lambda request: httpx.Response(200, json={"customer": {"id": 12}, "created": True}))

    assert await crm.resolve_customer(channel="web", external_id="abc", email=None) == 12
    assert fake_crm.json_bodies() == [{"channel": "web", "external_id": "abc"}]


@pytest.mark.parametrize(("status", "created"), [(201, True), (200, False)])
async def test_a_handoff_says_whether_it_is_new(status, created, crm, fake_crm):
    fake_crm.answer(
        lambda request: httpx.Response(status, json={"id": 4, "queue_position": 2, "agents_online": 1})
    )

    queued = await crm.request_handoff(
        sender_id="s", reason="customer_request", channel="web", customer_id=None, summary={}
    )

    assert (queued.id, queued.queue_position, queued.agents_online, queued.created) == (4, 2, 1, created)


async def test_a_ticket_lookup_keeps_the_last_reply_that_is_not_the_customers(crm, fake_crm):
    comments = [
        {"author_kind": "system", "body": "Ticket opened."},
        {"author_kind": "agent", "body": "We're on it."},
        {"author_kind": "customer", "body": "Thanks!"},
    ]
    body = {"number": "TCK-000001", "subject": "S", "status": "open", "comments": comments}
    fake_crm.answer(lambda request: httpx.Response(200, json=body))

    ticket = await crm.lookup_ticket(number="TCK-000001", proof={"customer_id": 3})

    assert ticket.last_public_reply == "We're on it."
    assert fake_crm.json_bodies() == [{"number": "TCK-000001", "customer_id": 3}]


def test_the_shared_client_is_created_once_on_first_use(monkeypatch):
    monkeypatch.setattr(crm_client, "_shared_client", None)
    monkeypatch.setattr(
        crm_client, "get_settings", lambda: ActionSettings(crm_url="http://crm.test", crm_service_token="t")
    )

    first = crm_client.shared_crm_client()

    assert isinstance(first, CrmClient)
    assert crm_client.shared_crm_client() is first
