"""Authentication dependencies: the service bearer token (agents come later)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crm_backend.auth.principal import Principal, PrincipalKind
from crm_backend.core.dependencies import SettingsDep
from crm_backend.core.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="CRM_SERVICE_TOKEN")


async def require_service(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Accept only the configured service token (compared in constant time)."""
    if credentials is None or not hmac.compare_digest(
        credentials.credentials.encode(), settings.service_token.encode()
    ):
        raise Unauthorized("A valid bearer token is required.")
    return Principal(kind=PrincipalKind.SERVICE, name="service")


ServicePrincipal = Annotated[Principal, Depends(require_service)]
