"""The audit log: who changed what, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.database import Base
from crm_backend.core.enums import ActorKind, string_enum
from crm_backend.core.types import UTCDateTime, utcnow


class AuditEntry(Base):
    """One change, attributed to an agent, a service, a customer session or the system."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_kind: Mapped[ActorKind] = mapped_column(string_enum(ActorKind))
    actor_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    # Field-level before/after values, or other context of the change.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
