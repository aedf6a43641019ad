"""HTTP routes for tickets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from crm_backend.auth.dependencies import CallerDep, ServiceDep
from crm_backend.core.dependencies import SessionDep
from crm_backend.core.errors import error_body
from crm_backend.core.pagination import Page, PageDep, fetch_page
from crm_backend.core.types import utcnow
from crm_backend.idempotency.service import IdempotencyKeyDep, fingerprint, run_once
from crm_backend.tickets import repository, service
from crm_backend.tickets.models import TicketPriority, TicketStatus
from crm_backend.tickets.schemas import (
    NO_NUL,
    CommentCreate,
    TicketCategory,
    TicketCommentRead,
    TicketCreate,
    TicketLookup,
    TicketRead,
    TicketStatusForCustomer,
    TicketSummary,
    TicketUpdate,
)

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

DatabaseIdQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@router.post("", response_model=TicketRead, status_code=status.HTTP_201_CREATED)
async def create_ticket(
    payload: TicketCreate, session: SessionDep, caller: CallerDep, idempotency_key: IdempotencyKeyDep = None
) -> JSONResponse:
    """Open a ticket, linked to a customer, an order and a conversation when given."""

    async def work() -> TicketRead:
        ticket = await service.create_ticket(session, data=payload, actor=caller)
        return await service.to_read(session, ticket)

    return await run_once(
        session,
        principal=caller,
        key=idempotency_key,
        request_fingerprint=fingerprint("POST", "/api/tickets", payload),
        status_code=status.HTTP_201_CREATED,
        work=work,
    )


@router.get("", response_model=Page[TicketSummary])
async def list_tickets(
    session: SessionDep,
    page: PageDep,
    _caller: CallerDep,
    statuses: Annotated[
        list[TicketStatus] | None, Query(alias="status", description="Repeat to match any of several")
    ] = None,
    priority: TicketPriority | None = None,
    category: TicketCategory | None = None,
    assignee_id: DatabaseIdQuery = None,
    customer_id: DatabaseIdQuery = None,
    overdue: Annotated[bool | None, Query(description="Past the SLA and not solved or closed")] = None,
    q: Annotated[str | None, Query(max_length=200, pattern=NO_NUL, description="Text in the subject")] = None,
) -> Page[TicketSummary]:
    """Tickets newest first, filtered by status, priority, category, assignee, customer, SLA or subject."""
    statement = repository.filtered(
        now=utcnow(),
        statuses=statuses or [],
        priority=priority,
        category=category.value if category is not None else None,
        assignee_id=assignee_id,
        customer_id=customer_id,
        overdue=overdue,
        q=q,
    )
    items, total = await fetch_page(session, statement, page)
    summaries = await service.to_summaries(session, items)
    return Page(items=summaries, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/lookup",
    response_model=TicketStatusForCustomer,
    responses={
        404: {
            "description": "No ticket matches",
            "content": {
                "application/json": {
                    "example": error_body("ticket_not_found", "No ticket matches that number and customer.")
                }
            },
        }
    },
)
async def lookup_ticket(
    payload: TicketLookup, session: SessionDep, _caller: ServiceDep
) -> TicketStatusForCustomer:
    """Verify a ticket by number + the customer's email (or id) and return what the customer may see."""
    ticket = await service.lookup_for_customer(
        session,
        number=payload.number,
        email=str(payload.email) if payload.email is not None else None,
        customer_id=payload.customer_id,
    )
    return service.to_status_for_customer(ticket)


@router.get("/{number}", response_model=TicketRead)
async def get_ticket(number: str, session: SessionDep, _caller: CallerDep) -> TicketRead:
    """One ticket with every comment; the number is accepted in any case."""
    return await service.to_read(session, await service.get_ticket(session, number))


@router.patch("/{number}", response_model=TicketRead)
async def update_ticket(
    number: str, payload: TicketUpdate, session: SessionDep, caller: CallerDep
) -> TicketRead:
    """Move a ticket through its workflow, re-prioritise, recategorise, rename or (un)assign it."""
    ticket = await service.update_ticket(session, number=number, data=payload, actor=caller)
    return await service.to_read(session, ticket)


@router.post("/{number}/comments", response_model=TicketCommentRead, status_code=status.HTTP_201_CREATED)
async def add_comment(
    number: str,
    payload: CommentCreate,
    session: SessionDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """Reply on a ticket or leave an internal note; the bot relays customers' replies with from_customer."""

    async def work() -> TicketCommentRead:
        comment = await service.add_comment(session, number=number, data=payload, actor=caller)
        return TicketCommentRead.model_validate(comment)

    canonical = service.canonical_number(number) or number
    return await run_once(
        session,
        principal=caller,
        key=idempotency_key,
        request_fingerprint=fingerprint("POST", f"/api/tickets/{canonical}/comments", payload),
        status_code=status.HTTP_201_CREATED,
        work=work,
        customer_of=lambda: repository.customer_of(session, canonical),
    )
