"""Who is calling: the identity every audited change is attributed to."""

from __future__ import annotations

from dataclasses import dataclass

from crm_backend.core.enums import ActorKind


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the bot's action server or an integration (service), or an agent."""

    kind: ActorKind
    id: str
    agent_id: int | None = None
    is_admin: bool = False

    @property
    def is_agent(self) -> bool:
        return self.kind is ActorKind.AGENT

    @property
    def is_service(self) -> bool:
        return self.kind is ActorKind.SERVICE

    @property
    def key(self) -> str:
        """A stable string naming the caller, e.g. "agent:7" or "service:bot"."""
        return f"{self.kind.value}:{self.id}"


SERVICE_PRINCIPAL = Principal(kind=ActorKind.SERVICE, id="service")
SYSTEM_PRINCIPAL = Principal(kind=ActorKind.SYSTEM, id="system")
