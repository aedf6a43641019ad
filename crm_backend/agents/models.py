"""Support agents and admins who log in to the console."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.database import Base
from crm_backend.core.enums import string_enum
from crm_backend.core.types import UTCDateTime, utcnow


class AgentRole(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


class Agent(Base):
    """A person on the support team. Admins also manage agents and the FAQ."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[AgentRole] = mapped_column(string_enum(AgentRole), default=AgentRole.AGENT)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
