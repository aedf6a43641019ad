"""Idempotent writes: a retried request with the same Idempotency-Key gets the first answer again.

The key is claimed (a row inserted) before the work runs, in the request's own
transaction. A concurrent duplicate therefore waits on the unique index until the first
commits, then replays its stored response; if the first fails, its claim rolls back
with it and the retry simply runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.auth.principal import Principal
from crm_backend.core.errors import Conflict
from crm_backend.idempotency.models import IdempotencyRecord

IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Send the same key when retrying: the write happens once and retries get its answer.",
    ),
]


class IdempotencyKeyReused(Conflict):
    error = "idempotency_key_reused"


def fingerprint(method: str, path: str, payload: BaseModel | None) -> str:
    """What makes two requests "the same": method, path and body."""
    body = json.dumps(jsonable_encoder(payload), sort_keys=True) if payload is not None else ""
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


async def _stored(session: AsyncSession, principal: Principal, key: str) -> IdempotencyRecord | None:
    return await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal.key, IdempotencyRecord.key == key
        )
    )


def _replay(record: IdempotencyRecord, request_fingerprint: str) -> JSONResponse:
    if record.request_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
    return JSONResponse(
        record.response_body, status_code=record.status_code, headers={"Idempotent-Replayed": "true"}
    )


async def run_once(
    session: AsyncSession,
    *,
    principal: Principal,
    key: str | None,
    request_fingerprint: str,
    status_code: int,
    work: Callable[[], Awaitable[BaseModel]],
    customer_of: Callable[[], Awaitable[int | None]] | None = None,
) -> JSONResponse:
    """Run `work` once per (caller, key); replay its response to retries.

    The stored response is filed under the customer it is about, for erasure: the
    response's own `customer_id`, or `customer_of()` (asked after the work) when the
    response does not carry one.
    """
    if key is None:
        return JSONResponse(jsonable_encoder(await work()), status_code=status_code)
    existing = await _stored(session, principal, key)
    if existing is not None:
        return _replay(existing, request_fingerprint)
    claim = IdempotencyRecord(
        principal=principal.key,
        key=key,
        request_fingerprint=request_fingerprint,
        status_code=0,
        response_body=None,
    )
    try:
        async with session.begin_nested():
            session.add(claim)
    except IntegrityError:
        # A concurrent request with this key committed first: answer as it did.
        existing = await _stored(session, principal, key)
        if existing is None:  # pragma: no cover - the winner rolled back in between
            raise IdempotencyKeyReused("A request with this Idempotency-Key is in progress; retry.") from None
        return _replay(existing, request_fingerprint)
    response = await work()
    body: Any = jsonable_encoder(response)
    claim.status_code = status_code
    claim.response_body = body
    claim.customer_id = (
        await customer_of() if customer_of is not None else getattr(response, "customer_id", None)
    )
    await session.flush()
    return JSONResponse(body, status_code=status_code)
