"""Enums shared by several domains, and how they are stored."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Enum


class Channel(StrEnum):
    """Where a customer talks to us."""

    WEB = "web"
    MESSENGER = "messenger"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    SLACK = "slack"
    EMAIL = "email"
    PHONE = "phone"
    API = "api"


class ActorKind(StrEnum):
    """Who did something: the key of every audit entry and message author."""

    SERVICE = "service"
    AGENT = "agent"
    CUSTOMER = "customer"
    SYSTEM = "system"


def string_enum(enum: type[StrEnum], length: int = 20) -> Enum:
    """Store an enum as a plain string column.

    Not a native enum, so adding a value is a code change rather than an ALTER TYPE
    migration on PostgreSQL; the values (not the names) are what is stored.
    """

    def values(members: Any) -> list[str]:
        return [member.value for member in members]

    return Enum(enum, native_enum=False, length=length, values_callable=values, validate_strings=True)
