"""Authentication: the service bearer token, or an agent's access token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.base import SecurityBase

from crm_backend.agents import repository as agents
from crm_backend.agents.models import AgentRole
from crm_backend.auth.principal import SERVICE_PRINCIPAL, Principal
from crm_backend.auth.tokens import read_agent_token
from crm_backend.core.config import Settings
from crm_backend.core.dependencies import SessionDep, SettingsDep
from crm_backend.core.enums import ActorKind
from crm_backend.core.errors import DomainError, Unauthorized

_bearer = HTTPBearer(
    auto_error=False, description="CRM_SERVICE_TOKEN, or an agent token from /api/auth/login"
)


class Forbidden(DomainError):
    status_code = 403
    error = "forbidden"


async def current_principal(
    settings: SettingsDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Whoever the bearer token names; 401 for anyone else."""
    if credentials is None:
        raise Unauthorized("A valid bearer token is required.")
    token = credentials.credentials
    if hmac.compare_digest(token.encode(), settings.service_token.encode()):
        return SERVICE_PRINCIPAL
    claims = read_agent_token(token, secret=settings.secret_key)
    agent = await agents.get(session, claims.agent_id) if claims else None
    if agent is None or not agent.is_active:
        raise Unauthorized("A valid bearer token is required.")
    return Principal(
        kind=ActorKind.AGENT, id=str(agent.id), agent_id=agent.id, is_admin=agent.role is AgentRole.ADMIN
    )


CallerDep = Annotated[Principal, Depends(current_principal)]


async def require_service(caller: CallerDep) -> Principal:
    """Only the service token (the bot's action server and integrations)."""
    if not caller.is_service:
        raise Forbidden("This endpoint is for the service token only.")
    return caller


async def require_agent(caller: CallerDep) -> Principal:
    """Only a logged-in agent."""
    if not caller.is_agent:
        raise Forbidden("This endpoint is for agents only.")
    return caller


async def require_admin(caller: CallerDep) -> Principal:
    """Only an admin agent."""
    if not caller.is_admin:
        raise Forbidden("This endpoint is for admins only.")
    return caller


class ServiceTokenBearer(SecurityBase):
    """Only the service token, checked without opening a database session (hot read routes).

    The same bearer scheme as every other route in the OpenAPI document, in one cheap
    dependency. Anyone else is refused as by `require_service`, except that an agent's token
    is judged by its signature alone: 403 whether or not the agent is still active.
    """

    def __init__(self) -> None:
        self.model = _bearer.model
        self.scheme_name = _bearer.scheme_name

    async def __call__(self, request: Request) -> Principal:
        settings: Settings = request.app.state.settings
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        if token and hmac.compare_digest(token.encode(), settings.service_token.encode()):
            return SERVICE_PRINCIPAL
        if token and read_agent_token(token, secret=settings.secret_key) is not None:
            raise Forbidden("This endpoint is for the service token only.")
        raise Unauthorized("A valid bearer token is required.")


ServiceDep = Annotated[Principal, Depends(require_service)]
# One instance: routes with a fast path call it directly, and tests may override it.
service_token = ServiceTokenBearer()
ServiceTokenDep = Annotated[Principal, Depends(service_token)]
AgentDep = Annotated[Principal, Depends(require_agent)]
AdminDep = Annotated[Principal, Depends(require_admin)]
# Kept for the routes written before agents existed.
ServicePrincipal = ServiceDep
