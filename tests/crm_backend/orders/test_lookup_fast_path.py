"""The lookup's fast path answers exactly as FastAPI's own handler for the same route."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from crm_backend.auth.dependencies import service_token
from crm_backend.orders.models import OrderStatus
from crm_backend.orders.router import lookup_fast_path
from tests.crm_backend.conftest import SERVICE_TOKEN, ClientFactory
from tests.crm_backend.factories import make_order

# (body, content type) pairs, built from the order's number, email and customer id.
CASES = {
    "email": lambda n, e, c: ({"order_number": n, "email": e}, "application/json"),
    "email as typed": lambda n, e, c: (
        {"order_number": " #" + n[4:], "email": e.upper()},
        "application/json",
    ),
    "customer id": lambda n, e, c: ({"order_number": n, "customer_id": c}, "application/json"),
    "customer id as text": lambda n, e, c: ({"order_number": n, "customer_id": str(c)}, "application/json"),
    "wrong email": lambda n, e, c: ({"order_number": n, "email": "x" + e}, "application/json"),
    "unknown number": lambda n, e, c: ({"order_number": "ORD-999998", "email": e}, "application/json"),
    "both proofs": lambda n, e, c: ({"order_number": n, "email": e, "customer_id": c}, "application/json"),
    "no proof": lambda n, e, c: ({"order_number": n}, "application/json"),
    "bad email": lambda n, e, c: ({"order_number": n, "email": "not-an-email"}, "application/json"),
    "number as int": lambda n, e, c: ({"order_number": 5, "email": e}, "application/json"),
    "a list": lambda n, e, c: ([n, e], "application/json"),
    "not json": lambda n, e, c: ("{" + n, "application/json"),
    "empty": lambda n, e, c: ("", "application/json"),
    "deep": lambda n, e, c: ("[" * 100_000 + "]" * 100_000, "application/json"),
    "text/plain": lambda n, e, c: ({"order_number": n, "email": e}, "text/plain"),
    "json with charset": lambda n, e, c: ({"order_number": n, "email": e}, "application/json; charset=utf-8"),
}
TOKENS = {"service": SERVICE_TOKEN, "none": None, "wrong": "not-the-token"}


def _content(body: object) -> bytes:
    return (body if isinstance(body, str) else json.dumps(body)).encode()


Answer = tuple[int, str, str]


async def _answers(client_for: ClientFactory, number: str, email: str, customer_id: int) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    for token_name, token in TOKENS.items():
        async with client_for(token) as client:
            for case, build in CASES.items():
                body, content_type = build(number, email, customer_id)
                response = await client.post(
                    "/api/orders/lookup", content=_content(body), headers={"Content-Type": content_type}
                )
                answers[f"{token_name} {case}"] = (
                    response.status_code,
                    response.headers["content-type"],
                    response.text,
                )
    return answers


async def test_fast_path_and_fastapi_handler_give_the_same_answers(
    app: FastAPI, client_for: ClientFactory, session: AsyncSession
):
    order = await make_order(session, status=OrderStatus.DELIVERED, delivered_days_ago=3)
    fast = await _answers(client_for, order.number, order.email, order.customer_id)
    # An override of the bearer dependency (by itself) makes the fast path decline every
    # request, so the same requests now go through FastAPI's dependency solving and body parsing.
    app.dependency_overrides[service_token] = service_token
    standard = await _answers(client_for, order.number, order.email, order.customer_id)

    assert fast == standard
    statuses = {status for status, _type, _text in fast.values()}
    assert {200, 400, 401, 404, 422} <= statuses
    assert fast["service email"][0] == fast["service customer id"][0] == 200


def _request(app: FastAPI, body: bytes, *, content_type: str = "application/json") -> Request:
    headers = [
        (b"content-type", content_type.encode()),
        (b"authorization", f"Bearer {SERVICE_TOKEN}".encode()),
    ]

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/api/orders/lookup", "headers": headers, "app": app}
    return Request(scope, receive)


async def test_the_usual_lookup_takes_the_fast_path(app: FastAPI, session: AsyncSession):
    order = await make_order(session)

    response = await lookup_fast_path(
        _request(app, _content({"order_number": order.number, "email": order.email}))
    )

    assert response is not None
    assert response.status_code == 200
    assert json.loads(bytes(response.body))["number"] == order.number


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"order_number": "ORD-100001"}', "application/json"),
        (b"{not json", "application/json"),
        (b'{"order_number": "ORD-100001", "email": "a@example.com"}', "application/json; charset=utf-8"),
    ],
)
async def test_anything_else_is_left_to_fastapi(app: FastAPI, body: bytes, content_type: str):
    assert await lookup_fast_path(_request(app, body, content_type=content_type)) is None


async def test_an_agent_token_is_refused_on_the_fast_path_too(
    client_for: ClientFactory, agent_client: httpx.AsyncClient, session: AsyncSession
):
    order = await make_order(session)

    response = await agent_client.post(
        "/api/orders/lookup", json={"order_number": order.number, "email": order.email}
    )

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
