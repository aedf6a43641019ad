"""HTTP routes for agents and agent login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from crm_backend.agents import repository, service
from crm_backend.agents.models import AgentRole
from crm_backend.agents.schemas import (
    AgentCreate,
    AgentRead,
    AgentUpdate,
    LoginRequest,
    LoginResponse,
    PresenceUpdate,
)
from crm_backend.auth.dependencies import AdminDep, AgentDep, CallerDep
from crm_backend.core.dependencies import SessionDep, SettingsDep
from crm_backend.core.pagination import Page, PageDep, paginate
from crm_backend.core.params import IdPath

auth_router = APIRouter(prefix="/api/auth", tags=["auth"])
router = APIRouter(prefix="/api/agents", tags=["agents"])


@auth_router.post("/login", response_model=LoginResponse)
async def login(payload: LoginRequest, session: SessionDep, settings: SettingsDep) -> LoginResponse:
    """Exchange an agent's email and password for a bearer token (valid 12 hours)."""
    agent, token, expires = await service.login(
        session, email=str(payload.email), password=payload.password, secret=settings.secret_key
    )
    return LoginResponse(access_token=token, expires_at=expires, agent=AgentRead.model_validate(agent))


@auth_router.get("/me", response_model=AgentRead)
async def me(session: SessionDep, caller: AgentDep) -> AgentRead:
    """The logged-in agent."""
    assert caller.agent_id is not None
    return AgentRead.model_validate(await service.get_agent(session, caller.agent_id))


@router.get("", response_model=Page[AgentRead])
async def list_agents(
    session: SessionDep,
    page: PageDep,
    _caller: CallerDep,
    role: AgentRole | None = None,
    is_online: Annotated[bool | None, Query()] = None,
    is_active: Annotated[bool | None, Query()] = None,
) -> Page[AgentRead]:
    """The team, filtered by role, presence or active flag."""
    statement = repository.filtered(role=role, is_online=is_online, is_active=is_active)
    return await paginate(session, statement, page, AgentRead)


@router.post("", response_model=AgentRead, status_code=status.HTTP_201_CREATED)
async def create_agent(payload: AgentCreate, session: SessionDep, admin: AdminDep) -> AgentRead:
    """Add an agent or admin (admins only)."""
    return AgentRead.model_validate(await service.create_agent(session, data=payload, actor=admin))


@router.patch("/{agent_id}", response_model=AgentRead)
async def update_agent(
    agent_id: IdPath, payload: AgentUpdate, session: SessionDep, admin: AdminDep
) -> AgentRead:
    """Rename, change role, deactivate or reset the password of an agent (admins only)."""
    return AgentRead.model_validate(
        await service.update_agent(session, agent_id=agent_id, data=payload, actor=admin)
    )


@router.put("/me/presence", response_model=AgentRead)
async def set_presence(payload: PresenceUpdate, session: SessionDep, caller: AgentDep) -> AgentRead:
    """Go online or offline."""
    assert caller.agent_id is not None
    return AgentRead.model_validate(
        await service.set_presence(session, agent_id=caller.agent_id, is_online=payload.is_online)
    )
