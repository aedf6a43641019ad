"""Cancellation, address changes and returns: the rules the bot relies on."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm_backend.orders.models import OrderReturn, OrderStatus
from tests.crm_backend.factories import make_customer, make_order

NEW_ADDRESS = {
    "name": "Alice Martin", "line1": "5 Rue Neuve", "line2": None,
    "city": "Lyon", "postal_code": "69001", "country": "FR",
}  # fmt: skip


@pytest.mark.parametrize("status", [OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PACKED])
async def test_order_before_shipment_can_be_cancelled(client, session, status):
    order = await make_order(session, status=status)

    response = await client.post(
        f"/api/orders/{order.number}/cancel", json={"email": order.email, "reason": "changed my mind"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["status_history"][-1] == {
        "status": "cancelled",
        "changed_at": body["status_history"][-1]["changed_at"],
        "note": "changed my mind",
    }
    # Money was taken once the order was paid: cancelling owes a refund.
    assert [r["amount_cents"] for r in body["refunds"]] == (
        [] if status is OrderStatus.PLACED else [order.total_cents]
    )


@pytest.mark.parametrize("status", [OrderStatus.SHIPPED, OrderStatus.DELIVERED])
async def test_cancel_shipped_order_is_refused_with_the_reason(client, session, status):
    order = await make_order(session, status=status, shipped=True)

    response = await client.post(f"/api/orders/{order.number}/cancel", json={"email": order.email})

    assert response.status_code == 409
    assert response.json()["error"] == "order_already_shipped"
    assert "already shipped" in response.json()["detail"]
    assert "returned" in response.json()["detail"]


async def test_cancelling_twice_is_refused(client, session):
    order = await make_order(session, status=OrderStatus.CANCELLED)
    response = await client.post(f"/api/orders/{order.number}/cancel", json={"email": order.email})
    assert response.status_code == 409
    assert response.json()["error"] == "order_not_cancellable"


async def test_bot_must_prove_ownership_and_a_wrong_owner_learns_nothing(client, session):
    order = await make_order(session)
    stranger = await make_customer(session)

    no_proof = await client.post(f"/api/orders/{order.number}/cancel", json={})
    wrong_email = await client.post(f"/api/orders/{order.number}/cancel", json={"email": stranger.email})
    wrong_customer = await client.post(
        f"/api/orders/{order.number}/cancel", json={"customer_id": stranger.id}
    )

    assert no_proof.status_code == 400
    assert no_proof.json()["error"] == "ownership_proof_required"
    assert wrong_email.status_code == wrong_customer.status_code == 404
    assert (await client.get(f"/api/orders/{order.number}")).json()["status"] == "paid"


async def test_verified_customer_id_is_enough_proof(client, session):
    order = await make_order(session)
    response = await client.post(
        f"/api/orders/{order.number}/cancel", json={"customer_id": order.customer_id}
    )
    assert response.status_code == 200


async def test_agents_act_without_proof_and_are_audited(agent_client, admin_client, session, agent):
    order = await make_order(session)

    response = await agent_client.post(f"/api/orders/{order.number}/cancel", json={})
    audit = await admin_client.get("/api/audit", params={"entity_type": "order", "entity_id": order.number})

    assert response.status_code == 200
    entry = audit.json()["items"][0]
    assert (entry["action"], entry["actor_kind"], entry["actor_id"]) == (
        "order.cancel",
        "agent",
        str(agent.id),
    )


async def test_cancel_with_an_idempotency_key_runs_once(client, session):
    order = await make_order(session)
    headers = {"Idempotency-Key": "cancel-123"}

    first = await client.post(
        f"/api/orders/{order.number}/cancel", json={"email": order.email}, headers=headers
    )
    retry = await client.post(
        f"/api/orders/{order.number}/cancel", json={"email": order.email}, headers=headers
    )
    other = await client.post(
        f"/api/orders/{order.number}/cancel", json={"email": order.email, "reason": "x"}, headers=headers
    )

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(first.json()["refunds"]) == 1
    assert other.status_code == 409
    assert other.json()["error"] == "idempotency_key_reused"


async def test_address_changes_before_shipment_only(client, session):
    waiting = await make_order(session, status=OrderStatus.PACKED)
    shipped = await make_order(session, status=OrderStatus.SHIPPED, shipped=True)

    changed = await client.put(
        f"/api/orders/{waiting.number}/shipping-address",
        json={"email": waiting.email, "address": NEW_ADDRESS},
    )
    refused = await client.put(
        f"/api/orders/{shipped.number}/shipping-address",
        json={"email": shipped.email, "address": NEW_ADDRESS},
    )

    assert changed.status_code == 200
    assert changed.json()["shipping_address"] == NEW_ADDRESS
    assert refused.status_code == 409
    assert refused.json()["error"] == "order_already_shipped"


async def test_return_inside_the_window_is_opened(client, session):
    order = await make_order(session, delivered_days_ago=10)

    response = await client.post(
        f"/api/orders/{order.number}/returns",
        json={"email": order.email, "reason": "too small", "items": [{"sku": "TSH-CLASSIC", "quantity": 1}]},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["number"].startswith("RMA-")
    assert body["status"] == "requested"
    assert body["items"] == [{"sku": "TSH-CLASSIC", "quantity": 1}]


async def test_return_after_the_window_is_refused(client, session):
    order = await make_order(session, delivered_days_ago=31)
    response = await client.post(f"/api/orders/{order.number}/returns", json={"email": order.email})
    assert response.status_code == 409
    assert response.json()["error"] == "return_window_closed"


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.CANCELLED])
async def test_undelivered_order_cannot_be_returned(client, session, status):
    order = await make_order(session, status=status)
    response = await client.post(f"/api/orders/{order.number}/returns", json={"email": order.email})
    assert response.status_code == 409
    assert response.json()["error"] == "order_not_delivered"


async def test_a_second_open_return_and_unknown_items_are_refused(client, session):
    order = await make_order(session, delivered_days_ago=2)
    first = await client.post(f"/api/orders/{order.number}/returns", json={"email": order.email})
    second = await client.post(f"/api/orders/{order.number}/returns", json={"email": order.email})
    other = await make_order(session, delivered_days_ago=2)
    unknown = await client.post(
        f"/api/orders/{other.number}/returns",
        json={"email": other.email, "items": [{"sku": "NOPE", "quantity": 1}]},
    )

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"] == "return_already_requested"
    assert unknown.status_code == 409
    assert unknown.json()["error"] == "unknown_return_item"


async def test_return_retried_with_the_same_key_creates_one_return(client, session):
    order = await make_order(session, delivered_days_ago=3)
    headers = {"Idempotency-Key": "return-abc"}
    responses = [
        await client.post(f"/api/orders/{order.number}/returns", json={"email": order.email}, headers=headers)
        for _ in range(3)
    ]
    count = await session.scalar(
        select(func.count()).select_from(OrderReturn).where(OrderReturn.order_id == order.id)
    )
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert count == 1


async def test_lookup_shows_the_return_window_and_refunds(client, session):
    order = await make_order(session, delivered_days_ago=5)
    response = await client.post(
        "/api/orders/lookup", json={"order_number": order.number, "email": order.email}
    )
    body = response.json()
    assert body["can_cancel"] is False
    assert body["return_window_ends"] is not None
    assert body["refunds"] == []
    assert body["returns"] == []


async def test_orders_are_listed_with_filters_and_pagination(agent_client, session):
    customer = await make_customer(session)
    for status in (OrderStatus.PAID, OrderStatus.PAID, OrderStatus.CANCELLED):
        await make_order(session, customer=customer, status=status)

    page = await agent_client.get(
        "/api/orders", params={"customer_id": customer.id, "status": "paid", "limit": 1}
    )

    assert page.status_code == 200
    assert page.json()["total"] == 2
    assert len(page.json()["items"]) == 1
