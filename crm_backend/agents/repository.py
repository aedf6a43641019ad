"""All SQL about agents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents.models import Agent, AgentRole


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
    """How many active agents are online now."""
    rows = await session.scalars(select(Agent.id).where(Agent.is_online.is_(True), Agent.is_active.is_(True)))
    return len(rows.all())
