"""Agent and login payloads."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from crm_backend.agents.models import AgentRole


class AgentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    role: AgentRole
    is_active: bool
    is_online: bool
    last_seen_at: datetime | None


class AgentCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    role: AgentRole = AgentRole.AGENT
    password: str = Field(min_length=10, max_length=200)


class AgentUpdate(BaseModel):
    """Fields an admin may change; omitted fields stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: AgentRole | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=200)


class PresenceUpdate(BaseModel):
    is_online: bool


class LoginRequest(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=200)


class LoginResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_at: datetime
    agent: AgentRead
