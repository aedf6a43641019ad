"""Canned responses: reply templates agents pick from and edit before sending."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.database import Base
from crm_backend.core.types import UTCDateTime, utcnow


class CannedResponse(Base):
    """A reusable reply: a short title for the picker and the text put into the reply box."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shortcut agents type or pick, such as "greeting"; unique so the picker never shows twins.
    shortcut: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(60), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
