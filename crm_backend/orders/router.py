"""HTTP routes for orders."""

from __future__ import annotations

from fastapi import APIRouter

from crm_backend.auth.dependencies import ServicePrincipal
from crm_backend.core.dependencies import SessionDep
from crm_backend.core.errors import error_body
from crm_backend.orders import service
from crm_backend.orders.schemas import OrderLookup, OrderRead

router = APIRouter(prefix="/api/orders", tags=["orders"])


@router.post(
    "/lookup",
    response_model=OrderRead,
    responses={
        404: {
            "description": "No order matches",
            "content": {
                "application/json": {
                    "example": error_body("order_not_found", "No order matches that order number and email.")
                }
            },
        }
    },
)
async def lookup_order(payload: OrderLookup, session: SessionDep, _caller: ServicePrincipal) -> OrderRead:
    """Verify an order by number + email and return its status, items and tracking."""
    order = await service.verify_order_owner(
        session, order_number=payload.order_number, email=str(payload.email)
    )
    return OrderRead.model_validate(order)
