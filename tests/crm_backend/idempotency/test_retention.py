"""Stored idempotent responses are forgotten after the retention period, by a background pass."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import timedelta

from sqlalchemy import delete, func, insert, select, update

from crm_backend.core.types import utcnow
from crm_backend.idempotency.models import IdempotencyRecord
from crm_backend.idempotency.retention import keep_pruning, prune_older_than, prune_once
from crm_backend.main import create_app
from crm_backend.tickets.models import Ticket


def _record(key: str, age: timedelta) -> IdempotencyRecord:
    return IdempotencyRecord(
        principal="service:test",
        key=key,
        request_fingerprint="0" * 64,
        status_code=201,
        response_body={"number": key},
        created_at=utcnow() - age,
    )


async def _keys(session) -> set[str]:
    return set((await session.scalars(select(IdempotencyRecord.key))).all())


async def test_records_older_than_the_cutoff_go_and_newer_ones_stay(session):
    session.add_all([_record("old", timedelta(days=8)), _record("fresh", timedelta(hours=1))])
    await session.flush()

    deleted = await prune_older_than(session, utcnow() - timedelta(days=7))

    assert deleted == 1
    assert await _keys(session) == {"fresh"}


async def test_a_key_used_again_after_its_record_expired_runs_the_write_again(client, session):
    headers = {"Idempotency-Key": "expired-key-1"}
    payload = {"subject": "Asked twice, a fortnight apart"}
    first = await client.post("/api/tickets", json=payload, headers=headers)
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key == "expired-key-1")
        .values(created_at=utcnow() - timedelta(days=14))
    )
    await prune_older_than(session, utcnow() - timedelta(days=7))
    await session.flush()

    second = await client.post("/api/tickets", json=payload, headers=headers)

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["number"] != first.json()["number"]
    count = select(func.count()).select_from(Ticket).where(Ticket.subject == payload["subject"])
    assert await session.scalar(count) == 2


async def test_one_pass_commits_in_its_own_transaction(session_factory, session):
    session.add(_record("a-week-and-a-day", timedelta(days=8)))
    await session.commit()

    deleted = await prune_once(session_factory, timedelta(days=7))

    assert deleted == 1
    async with session_factory() as fresh:
        assert await _keys(fresh) == set()


async def test_the_background_loop_prunes_again_after_a_failed_pass(session_factory, session, caplog):
    session.add(_record("stale", timedelta(days=30)))
    await session.commit()
    calls = 0
    second_pass_done = asyncio.Event()

    def flaky_factory():
        # The first pass finds the database away, the second works; from the third on the
        # database is "away" again, which only tells the test that the second has finished.
        nonlocal calls
        calls += 1
        if calls >= 3:
            second_pass_done.set()
        if calls != 2:
            raise ConnectionError("database restarting")
        return session_factory()

    loop = asyncio.create_task(keep_pruning(flaky_factory, retention=timedelta(days=7), every_seconds=0.05))  # type: ignore[arg-type]
    # The loop shares the test's one connection, so nothing else touches it until it stops.
    try:
        await asyncio.wait_for(second_pass_done.wait(), timeout=10)
    finally:
        loop.cancel()
        with suppress(asyncio.CancelledError):
            await loop

    assert calls >= 3
    assert "pruning failed" in caplog.text
    async with session_factory() as fresh:
        assert await _keys(fresh) == set()


async def test_the_app_prunes_from_start_up_with_its_settings(settings, engine):
    # Committed outside any test transaction: the app uses its own engine and sessions.
    async with engine.begin() as connection:
        await connection.execute(
            insert(IdempotencyRecord),
            [
                {"principal": "service:app", "key": "app-old", "request_fingerprint": "0" * 64,
                 "status_code": 201, "response_body": {}, "created_at": utcnow() - timedelta(hours=3)},
                {"principal": "service:app", "key": "app-new", "request_fingerprint": "0" * 64,
                 "status_code": 201, "response_body": {}, "created_at": utcnow()},
            ],
        )  # fmt: skip
    app = create_app(
        settings.model_copy(update={"idempotency_retention_hours": 2, "faq_index_on_startup": False})
    )
    try:
        async with app.router.lifespan_context(app):
            for _ in range(100):
                async with engine.connect() as connection:
                    keys = set((await connection.scalars(
                        select(IdempotencyRecord.key).where(IdempotencyRecord.principal == "service:app")
                    )).all())  # fmt: skip
                if keys == {"app-new"}:
                    break
                await asyncio.sleep(0.02)
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.principal == "service:app")
            )

    assert keys == {"app-new"}
