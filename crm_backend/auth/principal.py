"""Who is calling: the identity every audited change is attributed to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PrincipalKind(StrEnum):
    SERVICE = "service"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the bot's action server, an integration or an agent."""

    kind: PrincipalKind
    name: str
