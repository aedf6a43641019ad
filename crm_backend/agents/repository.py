"""All SQL about agents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents.models import Agent, AgentRole
from crm_backend.core.types import utcnow

# How long presence lasts without a renewal: the console renews it every 60 s, so this
# only ends the presence of a console that crashed or lost its connection.
PRESENCE_TIMEOUT = timedelta(minutes=10)


async def get(session: AsyncSession, agent_id: int) -> Agent | None:
    """The agent with this id."""
    return await session.get(Agent, agent_id)


async def get_by_email(session: AsyncSession, email: str) -> Agent | None:
    """The agent with this (lower-cased) email."""
    return await session.scalar(select(Agent).where(Agent.email == email))


def filtered(*, role: AgentRole | None, is_online: bool | None, is_active: bool | None) -> Select[Any]:
    """Agents by name, narrowed by whichever filters are given."""
    statement = select(Agent).order_by(Agent.name, Agent.id)
    if role is not None:
        statement = statement.where(Agent.role == role)
    if is_online is not None:
        statement = statement.where(Agent.is_online == is_online)
    if is_active is not None:
        statement = statement.where(Agent.is_active == is_active)
    return statement


async def count_online(session: AsyncSession) -> int:
    """How many active agents are online now (and were heard from lately)."""
    # The console renews presence every minute; an agent silent for longer closed it without
    # signing out (a crash, a lost connection) and must not count as someone who can answer.
    # Never seen at all means marked online by other means (an integration): kept.
    recent = or_(Agent.last_seen_at.is_(None), Agent.last_seen_at >= utcnow() - PRESENCE_TIMEOUT)
    rows = await session.scalars(
        select(Agent.id).where(Agent.is_online.is_(True), Agent.is_active.is_(True), recent)
    )
    return len(rows.all())
