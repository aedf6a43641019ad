"""Stored responses of retryable writes, keyed by the caller's Idempotency-Key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.database import Base
from crm_backend.core.types import UTCDateTime, utcnow


class IdempotencyRecord(Base):
    """The first response to a (caller, key) pair, replayed to every retry."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    # Method, path and body hash: a key reused for a different request is refused.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The customer the stored response is about (it copies their data), so erasing that
    # customer deletes it too. No foreign key: a record lives a week at most (retention.py).
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
