"""Business rules for agents: accounts, login, presence."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents import repository
from crm_backend.agents.models import Agent
from crm_backend.agents.schemas import AgentCreate, AgentUpdate
from crm_backend.audit.service import diff, record
from crm_backend.auth.passwords import hash_password, verify_password
from crm_backend.auth.principal import Principal
from crm_backend.auth.tokens import issue_agent_token
from crm_backend.core.errors import Conflict, NotFound, Unauthorized
from crm_backend.core.types import utcnow

TOKEN_LIFETIME = timedelta(hours=12)


class AgentNotFound(NotFound):
    error = "agent_not_found"


class AgentEmailTaken(Conflict):
    error = "agent_email_taken"


async def get_agent(session: AsyncSession, agent_id: int) -> Agent:
    """The agent, or 404."""
    agent = await repository.get(session, agent_id)
    if agent is None:
        raise AgentNotFound(f"No agent with id {agent_id}.")
    return agent


async def create_agent(session: AsyncSession, *, data: AgentCreate, actor: Principal) -> Agent:
    """Add an agent; emails are unique."""
    email = str(data.email).lower()
    if await repository.get_by_email(session, email) is not None:
        raise AgentEmailTaken(f"An agent with email {email} already exists.")
    agent = Agent(name=data.name, email=email, role=data.role, password_hash=hash_password(data.password))
    session.add(agent)
    await session.flush()
    await record(
        session, actor=actor, action="agent.create", entity_type="agent", entity_id=agent.id,
        changes={"email": email, "role": data.role.value},
    )  # fmt: skip
    return agent


async def update_agent(session: AsyncSession, *, agent_id: int, data: AgentUpdate, actor: Principal) -> Agent:
    """Change name, role, active flag or password."""
    agent = await get_agent(session, agent_id)
    before = {"name": agent.name, "role": agent.role.value, "is_active": agent.is_active}
    if data.name is not None:
        agent.name = data.name
    if data.role is not None:
        agent.role = data.role
    if data.is_active is not None:
        agent.is_active = data.is_active
        agent.is_online = agent.is_online and data.is_active
    changes = diff(before, {"name": agent.name, "role": agent.role.value, "is_active": agent.is_active})
    if data.password is not None:
        agent.password_hash = hash_password(data.password)
        changes["password"] = "changed"  # noqa: S105 (records that it changed, never the value)
    await session.flush()
    await record(
        session, actor=actor, action="agent.update", entity_type="agent", entity_id=agent.id, changes=changes
    )
    return agent


async def login(
    session: AsyncSession, *, email: str, password: str, secret: str
) -> tuple[Agent, str, datetime]:
    """Check the password and issue an access token. One error for every failure."""
    agent = await repository.get_by_email(session, email.lower())
    if agent is None or not agent.is_active or not verify_password(agent.password_hash, password):
        raise Unauthorized("Wrong email or password.")
    token, expires = issue_agent_token(
        agent_id=agent.id, role=agent.role.value, secret=secret, lifetime=TOKEN_LIFETIME
    )
    agent.last_seen_at = utcnow()
    await session.flush()
    return agent, token, expires


async def set_presence(session: AsyncSession, *, agent_id: int, is_online: bool) -> Agent:
    """Mark the agent online or offline (the handoff queue only routes to online agents)."""
    agent = await get_agent(session, agent_id)
    agent.is_online = is_online
    agent.last_seen_at = utcnow()
    await session.flush()
    return agent
