"""HTTP routes for handoffs: the bot queues conversations, agents claim and close them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import JSONResponse

from crm_backend.auth.dependencies import AgentDep, CallerDep, ServiceDep
from crm_backend.conversations.schemas import MAX_DB_ID, SENDER_ID_PATTERN
from crm_backend.core.dependencies import SessionDep
from crm_backend.core.errors import error_body
from crm_backend.core.pagination import Page, PageDep
from crm_backend.handoffs import service
from crm_backend.handoffs.models import HandoffReason, HandoffStatus
from crm_backend.handoffs.schemas import CsatCreate, HandoffCreate, HandoffItem, HandoffRead, HandoffTransfer
from crm_backend.idempotency.service import IdempotencyKeyDep, fingerprint, run_once

router = APIRouter(prefix="/api/handoffs", tags=["handoffs"])

HandoffId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_DB_ID)]

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No such handoff",
        "content": {
            "application/json": {"example": error_body("handoff_not_found", "No handoff with id 7.")}
        },
    }
}


@router.post(
    "",
    response_model=HandoffRead,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": HandoffRead, "description": "The conversation's open handoff, already queued"}},
)
async def create_handoff(
    payload: HandoffCreate, session: SessionDep, caller: ServiceDep, idempotency_key: IdempotencyKeyDep = None
) -> JSONResponse:
    """Queue a conversation for a human agent; an already open handoff is returned with 200."""
    # The status is decided up front because run_once records it with the response; a
    # handoff opened concurrently in between still comes back once (as 201), never twice.
    already_open = await service.find_open(session, sender_id=payload.sender_id) is not None

    async def work() -> HandoffRead:
        handoff, _created = await service.create_handoff(session, data=payload, actor=caller)
        return await service.to_read(session, handoff)

    return await run_once(
        session,
        principal=caller,
        key=idempotency_key,
        request_fingerprint=fingerprint("POST", "/api/handoffs", payload),
        status_code=status.HTTP_200_OK if already_open else status.HTTP_201_CREATED,
        work=work,
    )


@router.get("", response_model=Page[HandoffItem])
async def list_handoffs(
    session: SessionDep,
    page: PageDep,
    _caller: CallerDep,
    status: HandoffStatus | None = None,
    reason: HandoffReason | None = None,
    assignee_id: IdFilter = None,
    customer_id: IdFilter = None,
    sender_id: Annotated[str | None, Query(min_length=1, max_length=255, pattern=SENDER_ID_PATTERN)] = None,
) -> Page[HandoffItem]:
    """Waiting handoffs first, oldest first (the queue); then the others, newest first."""
    return await service.list_handoffs(
        session,
        page=page,
        status=status,
        reason=reason,
        assignee_id=assignee_id,
        customer_id=customer_id,
        sender_id=sender_id,
    )


@router.get("/{handoff_id}", response_model=HandoffRead, responses=_NOT_FOUND)
async def get_handoff(handoff_id: HandoffId, session: SessionDep, _caller: CallerDep) -> HandoffRead:
    """One handoff with its queue position and the number of agents online."""
    return await service.to_read(session, await service.get_handoff(session, handoff_id))


@router.post("/{handoff_id}/claim", response_model=HandoffRead, responses=_NOT_FOUND)
async def claim_handoff(handoff_id: HandoffId, session: SessionDep, caller: AgentDep) -> HandoffRead:
    """Take a waiting handoff; 409 if another agent was faster."""
    return await service.to_read(session, await service.claim(session, handoff_id=handoff_id, actor=caller))


@router.post("/{handoff_id}/transfer", response_model=HandoffRead, responses=_NOT_FOUND)
async def transfer_handoff(
    handoff_id: HandoffId, payload: HandoffTransfer, session: SessionDep, caller: AgentDep
) -> HandoffRead:
    """Pass an assigned handoff to another active agent (its assignee or an admin)."""
    handoff = await service.transfer(session, handoff_id=handoff_id, agent_id=payload.agent_id, actor=caller)
    return await service.to_read(session, handoff)


@router.post("/{handoff_id}/release", response_model=HandoffRead, responses=_NOT_FOUND)
async def release_handoff(handoff_id: HandoffId, session: SessionDep, caller: AgentDep) -> HandoffRead:
    """Give the conversation back to the bot (its assignee or an admin)."""
    return await service.to_read(session, await service.release(session, handoff_id=handoff_id, actor=caller))


@router.post("/{handoff_id}/resolve", response_model=HandoffRead, responses=_NOT_FOUND)
async def resolve_handoff(handoff_id: HandoffId, session: SessionDep, caller: AgentDep) -> HandoffRead:
    """Close the handoff as resolved, solving its linked ticket (its assignee or an admin)."""
    return await service.to_read(session, await service.resolve(session, handoff_id=handoff_id, actor=caller))


@router.post("/{handoff_id}/abandon", response_model=HandoffRead, responses=_NOT_FOUND)
async def abandon_handoff(handoff_id: HandoffId, session: SessionDep, caller: ServiceDep) -> HandoffRead:
    """The customer left before an agent closed the handoff."""
    return await service.to_read(session, await service.abandon(session, handoff_id=handoff_id, actor=caller))


@router.post("/{handoff_id}/csat", response_model=HandoffRead, responses=_NOT_FOUND)
async def rate_handoff(
    handoff_id: HandoffId, payload: CsatCreate, session: SessionDep, caller: ServiceDep
) -> HandoffRead:
    """Record the customer's satisfaction (1-5), once, after the handoff was resolved."""
    handoff = await service.give_csat(session, handoff_id=handoff_id, data=payload, actor=caller)
    return await service.to_read(session, handoff)
