"""Verify-and-get-order: POST /api/orders/lookup."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.orders.models import OrderStatus
from tests.crm_backend.factories import make_customer, make_order


async def test_matching_email_returns_status_items_and_tracking(
    client: httpx.AsyncClient, session: AsyncSession
):
    order = await make_order(session, status=OrderStatus.SHIPPED, shipped=True)

    response = await client.post(
        "/api/orders/lookup", json={"order_number": order.number, "email": order.email}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == order.number
    assert body["status"] == "shipped"
    assert body["items"] == [
        {"sku": "TSH-CLASSIC", "name": "Classic organic T-shirt", "quantity": 2, "unit_price_cents": 2990}
    ]
    assert body["shipments"][0]["carrier"] == "DHL"
    assert body["shipments"][0]["tracking_number"] == "DH0000000001"
    assert [step["status"] for step in body["status_history"]] == ["placed"]


@pytest.mark.parametrize(
    "typed", ["{digits}", "#{digits}", "ord {digits}", "ORD-{digits}", " Order {digits} "]
)
async def test_order_number_is_accepted_as_customers_type_it(client, session, typed):
    order = await make_order(session)
    digits = order.number.removeprefix("ORD-")

    response = await client.post(
        "/api/orders/lookup", json={"order_number": typed.format(digits=digits), "email": order.email.upper()}
    )

    assert response.status_code == 200
    assert response.json()["number"] == order.number


@pytest.mark.parametrize("email", ["zoë.müller@example.com", "josé@exämple.de"])
async def test_an_email_with_accents_is_compared_not_crashed_on(client, session, email):
    # hmac.compare_digest refuses non-ASCII str: the seed's customers have such emails.
    order = await make_order(session, email=email)

    right = await client.post("/api/orders/lookup", json={"order_number": order.number, "email": email})
    wrong = await client.post(
        "/api/orders/lookup", json={"order_number": order.number, "email": "zoe.muller@example.com"}
    )

    assert right.status_code == 200
    assert wrong.status_code == 404


async def test_wrong_email_gets_the_same_answer_as_an_unknown_order(client, session):
    order = await make_order(session)
    other = await make_customer(session)

    wrong_email = await client.post(
        "/api/orders/lookup", json={"order_number": order.number, "email": other.email}
    )
    unknown = await client.post(
        "/api/orders/lookup", json={"order_number": "ORD-999998", "email": order.email}
    )

    assert wrong_email.status_code == unknown.status_code == 404
    assert (
        wrong_email.json()
        == unknown.json()
        == {
            "error": "order_not_found",
            "detail": "No order matches that order number and email.",
        }
    )


async def test_a_verified_customer_id_works_instead_of_the_email(client, session):
    order = await make_order(session)
    other = await make_customer(session)

    mine = await client.post(
        "/api/orders/lookup", json={"order_number": order.number, "customer_id": order.customer_id}
    )
    theirs = await client.post(
        "/api/orders/lookup", json={"order_number": order.number, "customer_id": other.id}
    )
    both = await client.post(
        "/api/orders/lookup",
        json={"order_number": order.number, "customer_id": order.customer_id, "email": order.email},
    )

    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert both.status_code == 422


async def test_garbage_order_number_is_not_found_rather_than_an_error(client, session):
    order = await make_order(session)
    response = await client.post(
        "/api/orders/lookup", json={"order_number": "'; DROP TABLE orders; --", "email": order.email}
    )
    assert response.status_code == 404


async def test_lookup_requires_the_service_token(anonymous_client: httpx.AsyncClient, session):
    order = await make_order(session)
    payload = {"order_number": order.number, "email": order.email}

    missing = await anonymous_client.post("/api/orders/lookup", json=payload)
    wrong = await anonymous_client.post(
        "/api/orders/lookup", json=payload, headers={"Authorization": "Bearer not-the-token"}
    )

    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert order.number not in response.text


@pytest.mark.parametrize(
    ("content", "expected_status"),
    [
        (b"{not json", 422),
        (b'{"order_number": 12, "email": "a@example.com"}', 422),
        (b'{"order_number": "ORD-100001", "email": "not-an-email"}', 422),
        (b'{"order_number": "ORD-100001"}', 422),
        (b'{"order_number": "ORD-\\u0000", "email": "a@example.com"}', 422),
        (b'{"order_number": "\\ud800", "email": "a@example.com"}', 422),
        (b"[]", 422),
    ],
)
async def test_malformed_requests_get_a_json_4xx(client, content, expected_status):
    response = await client.post(
        "/api/orders/lookup", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == expected_status
    assert set(response.json()) == {"error", "detail"}


async def test_oversized_body_is_refused_before_parsing(client):
    response = await client.post(
        "/api/orders/lookup",
        content=b'{"order_number": "' + b"1" * 2_000_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
