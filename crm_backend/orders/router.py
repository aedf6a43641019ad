"""HTTP routes for orders."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse, Response

from crm_backend.auth.dependencies import CallerDep, ServiceTokenDep, service_token
from crm_backend.core.database import ReadOnlyDatabase
from crm_backend.core.dependencies import ReadOnlyDatabaseDep, SessionDep, get_read_only_database
from crm_backend.core.errors import error_body
from crm_backend.core.pagination import Page, PageDep, paginate
from crm_backend.core.routing import with_fast_path
from crm_backend.idempotency.service import IdempotencyKeyDep, fingerprint, run_once
from crm_backend.orders import repository, service
from crm_backend.orders.models import OrderStatus
from crm_backend.orders.numbers import normalize_order_number
from crm_backend.orders.schemas import (
    AddressChange,
    CancelRequest,
    OrderLookup,
    OrderRead,
    OrderSummary,
    ReturnRead,
    ReturnRequest,
)

router = APIRouter(prefix="/api/orders", tags=["orders"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No order matches",
        "content": {"application/json": {"example": error_body("order_not_found", "No order matches ...")}},
    }
}


@router.get("", response_model=Page[OrderSummary])
async def list_orders(
    session: SessionDep,
    page: PageDep,
    _caller: CallerDep,
    status: OrderStatus | None = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
) -> Page[OrderSummary]:
    """Orders, newest first, filtered by status, customer, email or date."""
    statement = repository.filtered(
        status=status, customer_id=customer_id, email=email, placed_from=placed_from, placed_to=placed_to
    )
    return await paginate(session, statement, page, OrderSummary)


async def lookup_order(
    payload: OrderLookup, _caller: ServiceTokenDep, database: ReadOnlyDatabaseDep
) -> Response:
    """Verify an order by number + email (or a verified customer id) and return it."""
    return await _looked_up(database, payload)


async def _looked_up(database: ReadOnlyDatabase, payload: OrderLookup) -> Response:
    # The bot's hottest call: the service renders OrderRead's JSON, sent as it is.
    document = await service.lookup_order_json(database, order_number=payload.order_number, proof=payload)
    return Response(document, media_type="application/json")


async def lookup_fast_path(request: Request) -> Response | None:
    """The bot's usual lookup without FastAPI's generic handler; None for anything else.

    It takes only a JSON body that parses (json.loads, as Starlette's request.json()) and
    validates (OrderLookup, in Python mode, as FastAPI validates a body) and then does what
    `lookup_order` does: the service token first, then the same service call. Anything
    else (another content type, a body FastAPI would refuse with 400/422, overridden
    dependencies in tests) goes to FastAPI's handler, so every error stays byte for byte
    FastAPI's, including which comes first: a body that does not parse is a 422 before
    any 401, a body that parses but is invalid is a 401 before its 422.
    """
    overrides = request.app.dependency_overrides
    if request.headers.get("content-type") != "application/json" or (
        overrides and (service_token in overrides or get_read_only_database in overrides)
    ):
        return None
    try:
        payload = OrderLookup.model_validate(json.loads(await request.body()))
    except Exception:  # whatever it is (a 422, a 400), FastAPI's handler answers it
        return None
    await service_token(request)
    return await _looked_up(await get_read_only_database(request), payload)


# Declared like every other route (OpenAPI, FastAPI's handler behind the fast path); added
# here, between the list and /{order_number}, because routes are matched in order.
router.add_api_route(
    "/lookup",
    lookup_order,
    methods=["POST"],
    response_model=OrderRead,
    responses=_NOT_FOUND,
    route_class_override=with_fast_path(lookup_fast_path),
)


@router.get("/{order_number}", response_model=OrderRead, responses=_NOT_FOUND)
async def get_order(order_number: str, session: SessionDep, _caller: CallerDep) -> OrderRead:
    """One order with items, tracking, history, returns and refunds."""
    return service.to_read(await service.get_order(session, order_number))


@router.post("/{order_number}/cancel", response_model=OrderRead, responses=_NOT_FOUND)
async def cancel_order(
    order_number: str,
    payload: CancelRequest,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """Cancel an order before it ships; refused with the reason (409) once it has shipped."""

    async def cancel() -> OrderRead:
        order = await service.cancel_order(
            session, order_number=order_number, proof=payload, reason=payload.reason, actor=caller
        )
        return service.to_read(order)

    return await run_once(
        session,
        principal=caller,
        key=idempotency_key,
        request_fingerprint=fingerprint("POST", request.url.path, payload),
        status_code=status.HTTP_200_OK,
        work=cancel,
    )


@router.put("/{order_number}/shipping-address", response_model=OrderRead, responses=_NOT_FOUND)
async def change_shipping_address(
    order_number: str, payload: AddressChange, session: SessionDep, caller: CallerDep
) -> OrderRead:
    """Change the shipping address; refused (409) once the order has shipped."""
    order = await service.change_shipping_address(
        session, order_number=order_number, proof=payload, address=payload.address, actor=caller
    )
    return service.to_read(order)


@router.post(
    "/{order_number}/returns",
    response_model=ReturnRead,
    status_code=status.HTTP_201_CREATED,
    responses=_NOT_FOUND,
)
async def start_return(
    order_number: str,
    payload: ReturnRequest,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """Start a return for a delivered order within the return window."""

    async def open_return() -> ReturnRead:
        order_return = await service.start_return(
            session,
            order_number=order_number,
            proof=payload,
            reason=payload.reason,
            items=payload.items,
            actor=caller,
        )
        return ReturnRead.model_validate(order_return)

    return await run_once(
        session,
        principal=caller,
        key=idempotency_key,
        request_fingerprint=fingerprint("POST", request.url.path, payload),
        status_code=status.HTTP_201_CREATED,
        work=open_return,
        customer_of=lambda: repository.customer_of(session, normalize_order_number(order_number) or ""),
    )
