"""Agent access tokens: short-lived JWTs signed with CRM_SECRET_KEY."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ISSUER = "support-crm"


@dataclass(frozen=True, slots=True)
class AgentClaims:
    agent_id: int
    role: str


def issue_agent_token(*, agent_id: int, role: str, secret: str, lifetime: timedelta) -> tuple[str, datetime]:
    """A signed token for the agent, and when it expires."""
    expires = datetime.now(UTC) + lifetime
    claims = {"sub": str(agent_id), "role": role, "iss": ISSUER, "exp": expires, "typ": "agent"}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires


def read_agent_token(token: str, *, secret: str) -> AgentClaims | None:
    """The claims of a valid, unexpired agent token; None for anything else."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "agent" or not str(claims.get("sub", "")).isdigit():
        return None
    return AgentClaims(agent_id=int(claims["sub"]), role=str(claims.get("role", "")))
