"""Audit log payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from crm_backend.core.enums import ActorKind


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_kind: ActorKind
    actor_id: str
    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, Any]
