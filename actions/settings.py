"""Typed settings of the action server, read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

from actions.support_hours import SupportHours

# The customer waits while we call the CRM: give up quickly and say so.
MAX_CRM_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class ActionSettings:
    """Where the CRM is, how to talk to it, and when people can take over."""

    crm_url: str
    crm_service_token: str
    crm_timeout_seconds: float = MAX_CRM_TIMEOUT_SECONDS
    support_hours: SupportHours = field(default_factory=SupportHours)

    @classmethod
    def from_environment(cls) -> ActionSettings:
        """Read CRM_URL, CRM_SERVICE_TOKEN, CRM_TIMEOUT_SECONDS, SUPPORT_HOURS and SUPPORT_TIMEZONE."""
        timeout = float(os.environ.get("CRM_TIMEOUT_SECONDS") or MAX_CRM_TIMEOUT_SECONDS)
        return cls(
            crm_url=os.environ.get("CRM_URL", "http://127.0.0.1:8000").rstrip("/"),
            crm_service_token=os.environ.get("CRM_SERVICE_TOKEN", "dev-service-token"),
            crm_timeout_seconds=min(max(timeout, 0.1), MAX_CRM_TIMEOUT_SECONDS),
            support_hours=SupportHours.parse(
                os.environ.get("SUPPORT_HOURS", "always"), os.environ.get("SUPPORT_TIMEZONE") or "UTC"
            ),
        )


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    """The process-wide settings."""
    return ActionSettings.from_environment()
