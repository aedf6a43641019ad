"""HTTP routes for handoffs: the bot queues conversations, agents claim and close them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import JSONResponse

from crm_backend.auth.dependencies import AgentDep, CallerDep, ServiceDep
from crm_backend.conversations import repository as conversations
from crm_backend.conversations.models import ConversationStatus, Message
from crm_backend.conversations.schemas import MAX_DB_ID, SENDER_ID_PATTERN, MessageRead
from crm_backend.core.dependencies import SessionDep
from crm_backend.core.errors import error_body
from crm_backend.core.pagination import Page, PageDep
from crm_backend.events import live
from crm_backend.events.live import LiveDep, LiveEvent
from crm_backend.handoffs import relay, service
from crm_backend.handoffs.models import Handoff, HandoffReason, HandoffStatus
from crm_backend.handoffs.schemas import (
    AgentReply,
    AgentTyping,
    CsatCreate,
    CsatUpdate,
    HandoffCreate,
    HandoffItem,
    HandoffRead,
    HandoffTransfer,
)
from crm_backend.idempotency.service import IdempotencyKeyDep, fingerprint, run_once
from crm_backend.rasa.client import RasaDep

router = APIRouter(prefix="/api/handoffs", tags=["handoffs"])

HANDED_OFF = ConversationStatus.HANDED_OFF
_RASA_DOWN: dict[str, Any] = {
    "description": "Rasa cannot be reached: nothing was stored, changed or sent",
    "content": {
        "application/json": {
            "example": error_body(
                "rasa_unavailable", "The assistant (Rasa) cannot be reached; nothing was sent. Try again."
            )
        }
    },
}

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
    payload: HandoffCreate,
    session: SessionDep,
    caller: ServiceDep,
    updates: LiveDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    """Queue a conversation for a human agent; an already open handoff is returned with 200.

    A new handoff is announced on /api/live (`handoff.changed`, `conversation.changed`).
    """
    # The status is decided up front because run_once records it with the response; a
    # handoff opened concurrently in between still comes back once (as 201), never twice.
    already_open = await service.find_open(session, sender_id=payload.sender_id) is not None

    async def work() -> HandoffRead:
        handoff, created = await service.create_handoff(session, data=payload, actor=caller)
        read = await service.to_read(session, handoff)
        if created:
            updates.add(live.handoff_changed(read), live.conversation_changed(read.sender_id, HANDED_OFF))
        return read

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


async def _announce(
    session: SessionDep, handoff: Handoff, updates: LiveDep, *extra: LiveEvent
) -> HandoffRead:
    read = await service.to_read(session, handoff)
    updates.add(live.handoff_changed(read), *extra)
    return read


@router.post("/{handoff_id}/claim", response_model=HandoffRead, responses=_NOT_FOUND)
async def claim_handoff(
    handoff_id: HandoffId, session: SessionDep, caller: AgentDep, rasa: RasaDep, updates: LiveDep
) -> HandoffRead:
    """Take a waiting handoff; 409 if another agent was faster. Announced on /api/live.

    The customer is told "NAME from our team has joined the chat" (the widget shows "Agent
    joined: NAME"). If Rasa cannot be reached the claim still succeeds without that notice.
    """
    handoff, notice = await relay.claim(session, handoff_id=handoff_id, actor=caller, rasa=rasa)
    return await _announce(session, handoff, updates, *await _created(session, handoff, notice))


@router.post(
    "/{handoff_id}/messages",
    response_model=MessageRead,
    status_code=status.HTTP_201_CREATED,
    responses={**_NOT_FOUND, 503: _RASA_DOWN},
)
async def reply_to_customer(
    handoff_id: HandoffId,
    payload: AgentReply,
    session: SessionDep,
    caller: AgentDep,
    rasa: RasaDep,
    updates: LiveDep,
) -> MessageRead:
    """Send a reply to the customer (the assignee or an admin).

    The reply is stored (author `agent`) and sent through Rasa, which delivers it on the
    customer's channel and records it in its tracker. If Rasa cannot be reached: 503
    `rasa_unavailable`, and nothing is stored or sent; keep the text and send it again.
    Announced on /api/live as `message.created`.
    """
    conversation, message = await relay.send_reply(
        session, handoff_id=handoff_id, text=payload.text, actor=caller, rasa=rasa
    )
    updates.add(live.message_created(conversation.sender_id, message))
    return MessageRead.model_validate(message)


@router.post(
    "/{handoff_id}/typing", status_code=status.HTTP_204_NO_CONTENT, response_model=None, responses=_NOT_FOUND
)
async def agent_typing(
    handoff_id: HandoffId, payload: AgentTyping, session: SessionDep, caller: AgentDep, rasa: RasaDep
) -> None:
    """The assignee started (`true`) or stopped (`false`) typing: the customer's widget shows it.

    Best-effort and ephemeral: nothing is stored, nor written to Rasa's tracker; other channels
    than the web widget, or Rasa being away, make it a no-op. The console sends it throttled.
    """
    await relay.show_typing(session, handoff_id=handoff_id, typing=payload.typing, actor=caller, rasa=rasa)


@router.post("/{handoff_id}/transfer", response_model=HandoffRead, responses=_NOT_FOUND)
async def transfer_handoff(
    handoff_id: HandoffId,
    payload: HandoffTransfer,
    session: SessionDep,
    caller: AgentDep,
    rasa: RasaDep,
    updates: LiveDep,
) -> HandoffRead:
    """Pass an assigned handoff to another active agent (its assignee or an admin). Announced on /api/live.

    The customer is told the new agent joined (best-effort, as for a claim).
    """
    handoff, notice = await relay.transfer(
        session, handoff_id=handoff_id, agent_id=payload.agent_id, actor=caller, rasa=rasa
    )
    return await _announce(session, handoff, updates, *await _created(session, handoff, notice))


@router.post("/{handoff_id}/release", response_model=HandoffRead, responses={**_NOT_FOUND, 503: _RASA_DOWN})
async def release_handoff(
    handoff_id: HandoffId, session: SessionDep, caller: AgentDep, rasa: RasaDep, updates: LiveDep
) -> HandoffRead:
    """Give the conversation back to the bot (its assignee or an admin).

    Rasa resumes the bot and tells the customer they are back with the assistant; if Rasa
    cannot be reached: 503 `rasa_unavailable` and nothing changes. Announced on /api/live.
    """
    handoff, notice = await relay.release(session, handoff_id=handoff_id, actor=caller, rasa=rasa)
    return await _announce(
        session, handoff, updates, *await _created(session, handoff, notice), await _active(session, handoff)
    )


@router.post("/{handoff_id}/resolve", response_model=HandoffRead, responses={**_NOT_FOUND, 503: _RASA_DOWN})
async def resolve_handoff(
    handoff_id: HandoffId, session: SessionDep, caller: AgentDep, rasa: RasaDep, updates: LiveDep
) -> HandoffRead:
    """Close the handoff as resolved, solving its linked ticket (its assignee or an admin).

    Rasa resumes the bot and asks the customer "How satisfied are you with the help you got?
    (1 = not at all, 5 = very)" with buttons 1-5 (payload `/rate_service{"csat_score": N}`);
    if Rasa cannot be reached: 503 `rasa_unavailable` and nothing changes. Announced on /api/live.
    """
    handoff, notice = await relay.resolve(session, handoff_id=handoff_id, actor=caller, rasa=rasa)
    return await _announce(
        session, handoff, updates, *await _created(session, handoff, notice), await _active(session, handoff)
    )


@router.post("/{handoff_id}/abandon", response_model=HandoffRead, responses=_NOT_FOUND)
async def abandon_handoff(
    handoff_id: HandoffId, session: SessionDep, caller: ServiceDep, updates: LiveDep
) -> HandoffRead:
    """The customer left before an agent closed the handoff. Announced on /api/live."""
    handoff = await service.abandon(session, handoff_id=handoff_id, actor=caller)
    return await _announce(session, handoff, updates, await _active(session, handoff))


@router.post("/{handoff_id}/csat", response_model=HandoffRead, responses=_NOT_FOUND)
async def rate_handoff(
    handoff_id: HandoffId, payload: CsatCreate, session: SessionDep, caller: ServiceDep, updates: LiveDep
) -> HandoffRead:
    """Record the customer's satisfaction (1-5), once, after the handoff was resolved (on /api/live).

    The assistant stores the score as soon as the customer gives it, and the comment they add
    afterwards with `PATCH`.
    """
    handoff = await service.give_csat(session, handoff_id=handoff_id, data=payload, actor=caller)
    return await _announce(session, handoff, updates)


@router.patch("/{handoff_id}/csat", response_model=HandoffRead, responses=_NOT_FOUND)
async def complete_rating(
    handoff_id: HandoffId, payload: CsatUpdate, session: SessionDep, caller: ServiceDep, updates: LiveDep
) -> HandoffRead:
    """Add the comment to a rating stored without one, once; a `score` given replaces the first.

    409 `csat_not_given` before a score was stored, `csat_already_given` once a comment is
    stored. On /api/live.
    """
    handoff = await service.complete_csat(session, handoff_id=handoff_id, data=payload, actor=caller)
    return await _announce(session, handoff, updates)


async def _created(session: SessionDep, handoff: Handoff, notice: Message | None) -> list[LiveEvent]:
    # The notice is a system message of the conversation: consoles show it like any other.
    if notice is None:
        return []
    conversation = await conversations.get(session, handoff.conversation_id)
    assert conversation is not None
    return [live.message_created(conversation.sender_id, notice)]


async def _active(session: SessionDep, handoff: Handoff) -> LiveEvent:
    conversation = await conversations.get(session, handoff.conversation_id)
    assert conversation is not None
    return live.conversation_changed(conversation.sender_id, ConversationStatus.ACTIVE)
