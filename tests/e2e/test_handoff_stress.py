"""Concurrency through the real stack: a burst of customer messages, and a race to claim."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.e2e.conftest import RunningStack
from tests.e2e.test_handoff_pipeline import (
    Console,
    WidgetCustomer,
    console,
    messages_in_crm,
    wait_for,
    widget_customer,
)

__all__ = ["console", "widget_customer"]  # fixtures shared with test_handoff_pipeline.py

BURST = 200
CLAIMS = 20
LOGINS = (
    {"email": "agent@example.com", "password": "agent-demo-password"},
    {"email": "admin@example.com", "password": "admin-demo-password"},
)


def _queued_handoff(widget_customer: WidgetCustomer, console: Console) -> dict[str, Any]:
    sender = widget_customer.session_id
    widget_customer.say("I want to talk to a human")
    widget_customer.reply_containing("queue")
    event = console.event_matching(
        lambda e: e["type"] == "handoff.changed" and e["handoff"]["sender_id"] == sender
    )
    handoff: dict[str, Any] = event["handoff"]
    return handoff


def test_a_burst_of_customer_messages_reaches_the_console_and_the_crm_in_order_once(
    running_stack: RunningStack, widget_customer: WidgetCustomer, console: Console
):
    sender = widget_customer.session_id
    _queued_handoff(widget_customer, console)
    texts = [f"burst message {n:03d}" for n in range(BURST)]

    for text in texts:  # as fast as the socket takes them, no waiting for anything
        widget_customer.say(text)

    live: list[str] = []
    while len(live) < BURST:
        event = console.event_matching(
            lambda e: e["type"] == "message.created" and e["sender_id"] == sender
            and e["message"]["text"].startswith("burst message"),
            timeout=60,
        )  # fmt: skip
        live.append(event["message"]["text"])
    assert live == texts

    def stored() -> list[dict[str, Any]] | None:
        burst = [m for m in _all_messages(console, sender) if m["text"].startswith("burst message")]
        return burst if len(burst) >= BURST else None

    burst = wait_for(stored, "the burst in the CRM", timeout=60)
    assert [m["text"] for m in burst] == texts
    assert all(m["author"] == "customer" for m in burst)
    assert len({m["event_id"] for m in burst}) == BURST
    assert widget_customer.drain() == []  # the bot stayed paused through all of it


def _all_messages(console: Console, sender: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while True:
        params = {"limit": 200, "offset": len(messages)}
        response = console.http.get(f"/api/conversations/{sender}/messages", params=params)
        if response.status_code == 404:
            return []
        response.raise_for_status()
        page = response.json()
        messages.extend(page["items"])
        if not page["items"] or len(messages) >= page["total"]:
            return messages


def test_twenty_simultaneous_claims_have_exactly_one_winner(
    running_stack: RunningStack, widget_customer: WidgetCustomer, console: Console
):
    handoff = _queued_handoff(widget_customer, console)

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=running_stack.config.crm_url, timeout=30) as http:
            tokens = []
            for login in LOGINS:
                answer = await http.post("/api/auth/login", json=login)
                answer.raise_for_status()
                tokens.append(answer.json()["access_token"])
            start = asyncio.Event()

            async def claim(n: int) -> httpx.Response:
                await start.wait()
                headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
                return await http.post(f"/api/handoffs/{handoff['id']}/claim", headers=headers)

            tasks = [asyncio.create_task(claim(n)) for n in range(CLAIMS)]
            await asyncio.sleep(0.1)
            start.set()
            return list(await asyncio.gather(*tasks))

    responses = asyncio.run(race())

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (CLAIMS - 1), [r.text for r in responses if r.status_code != 409]
    assert all(r.json()["error"] == "handoff_already_claimed" for r in responses if r.status_code == 409)
    winner = next(r.json() for r in responses if r.status_code == 200)
    final = console.http.get(f"/api/handoffs/{handoff['id']}").json()
    assert (final["status"], final["assignee_id"]) == ("assigned", winner["assignee_id"])
    # One claim, so one "joined" notice for the customer and in the record.
    notices = wait_for(
        lambda: (
            [m for m in messages_in_crm(console, widget_customer.session_id) if m["author"] == "system"]
            or None
        ),
        "the joined notice",
    )
    assert len(notices) == 1
