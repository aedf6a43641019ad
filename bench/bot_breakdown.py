"""Where an order-status turn spends its time: its parts called one at a time, without load.

Each part is called the way the turn calls it, with the turn's real tracker: NLU alone
(`POST /model/parse`), every action server call the turn made (read from its tracker: the
custom actions it ran, and the validation action of each form it ran; CRM calls included),
the CRM's order lookup alone, and a Redis read of the stored tracker. Comparing these with a
turn at concurrency 1 shows what is left for Rasa itself (policies, tracker (de)serialisation,
the HTTP hops' overhead).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import redis.asyncio as aioredis

WARMUP_CALLS = 5


@dataclass(frozen=True, slots=True)
class PartTiming:
    """p50/p95 of one part of a turn, called alone and in sequence."""

    name: str
    p50_ms: float
    p95_ms: float
    calls: int


@dataclass(frozen=True, slots=True)
class TurnContext:
    """What the parts need: the servers, a finished conversation and the order it asked about."""

    ours_url: str
    bare_url: str
    actions_url: str
    crm_url: str
    service_token: str
    rasa_token: str
    redis_url: str
    redis_key_prefix: str
    sender: str
    order_text: str
    bare_text: str
    order_number: str
    email: str


async def time_part(name: str, call: Callable[[], Awaitable[None]], *, calls: int) -> PartTiming:
    """Call `call` WARMUP_CALLS times untimed, then `calls` times timed, one after another."""
    for _ in range(WARMUP_CALLS):
        await call()
    samples: list[float] = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    p50, p95 = np.percentile(np.asarray(samples), [50, 95])
    return PartTiming(name=name, p50_ms=float(p50), p95_ms=float(p95), calls=calls)


async def _json(client: httpx.AsyncClient, url: str) -> Any:
    response = await client.get(url, headers={"Accept": "application/json"})
    response.raise_for_status()
    return response.json()


def _poster(
    client: httpx.AsyncClient, url: str, payload: Any, **headers: str
) -> Callable[[], Awaitable[None]]:
    async def post() -> None:
        response = await client.post(url, json=payload, headers=headers)
        response.raise_for_status()

    return post


def tracker_before(tracker: dict[str, Any], domain: dict[str, Any], position: int) -> dict[str, Any]:
    """The tracker as it stood before event `position`: its events, slots, active loop, last message."""
    events = tracker["events"][:position]
    slots = {name: (spec or {}).get("initial_value") for name, spec in (domain.get("slots") or {}).items()}
    active_loop: dict[str, Any] = {}
    latest_message: dict[str, Any] = {}
    latest_action = None
    for event in events:
        kind = event.get("event")
        if kind == "slot":
            slots[event["name"]] = event.get("value")
        elif kind == "active_loop":
            active_loop = {"name": event["name"]} if event.get("name") else {}
        elif kind == "user":
            latest_message = {**(event.get("parse_data") or {}), "text": event.get("text")}
        elif kind == "action":
            latest_action = event.get("name")
    return {
        **tracker,
        "events": events,
        "slots": slots,
        "active_loop": active_loop,
        "latest_message": latest_message,
        "latest_action_name": latest_action,
        "latest_action": {"action_name": latest_action},
    }


def custom_actions(domain: dict[str, Any]) -> dict[str, bool]:
    """The domain's custom actions, each with whether Rasa sends it the domain.

    An entry is a name, or `{name: {send_domain: true}}`; with endpoints.yml's
    `enable_selective_domain` only the latter get the domain.
    """
    actions: dict[str, bool] = {}
    for entry in domain.get("actions") or ():
        if isinstance(entry, dict):
            for name, options in entry.items():
                actions[str(name)] = bool((options or {}).get("send_domain"))
        else:
            actions[str(entry)] = False
    return actions


def remote_calls(tracker: dict[str, Any], domain: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The action server calls a conversation made, each with the tracker it was sent.

    Read from the tracker rather than assumed, as the dialogue changes: custom actions are
    the domain's `actions`; a form with a `validate_<form>` action calls it once active.
    Rasa sends a custom action the tracker before the action's own event, and a form's
    validation the tracker as the form activates (its `active_loop` event included).
    """
    custom = set(custom_actions(domain))
    forms = set(domain.get("forms") or ())
    events = tracker.get("events") or []
    calls: dict[str, dict[str, Any]] = {}
    for position, event in enumerate(events):
        name = str(event.get("name")) if event.get("event") == "action" else ""
        if name in forms and f"validate_{name}" in custom:
            activated = next(
                (i for i in range(position, len(events)) if events[i].get("event") == "active_loop"), position
            )
            calls.setdefault(f"validate_{name}", tracker_before(tracker, domain, activated + 1))
        elif name in custom:
            calls.setdefault(name, tracker_before(tracker, domain, position))
    return calls


async def _tracker_key(redis: aioredis.Redis, prefix: str, sender: str) -> str:
    """The Redis key Rasa keeps this conversation's tracker under (found, not assumed)."""
    async for key in redis.scan_iter(match=f"{prefix}*{sender}*"):
        return key.decode() if isinstance(key, bytes) else str(key)
    raise LookupError(f"no Redis key for {sender} under {prefix}")


async def measure_parts(context: TurnContext, *, calls: int) -> list[PartTiming]:
    """Time each part of the order-status turn alone."""
    # Our Rasa runs with --auth-token (devstack): every call to its HTTP API carries the token.
    async with (
        httpx.AsyncClient(timeout=30) as client,
        httpx.AsyncClient(timeout=30, params={"token": context.rasa_token}) as ours,
    ):
        tracker = await _json(
            ours, f"{context.ours_url}/conversations/{context.sender}/tracker?include_events=ALL"
        )
        domain = await _json(ours, f"{context.ours_url}/domain")
        needs_domain = custom_actions(domain)
        version = (await _json(ours, f"{context.ours_url}/version"))["version"]

        def action_call(action: str, state: dict[str, Any]) -> Callable[[], Awaitable[None]]:
            # The payload Rasa's RemoteAction sends: the whole tracker, and the domain to the
            # actions that ask for it (endpoints.yml enables Rasa's selective domain).
            payload = {
                "next_action": action,
                "sender_id": context.sender,
                "tracker": state,
                "version": version,
            }
            if needs_domain.get(action, False):
                payload["domain"] = domain
            return _poster(client, f"{context.actions_url}/webhook", payload)

        lookup = {"order_number": context.order_number, "email": context.email}
        parts = {
            "bare: NLU only (`POST /model/parse`)": _poster(
                client, f"{context.bare_url}/model/parse", {"text": context.bare_text}
            ),
            "ours: NLU only (`POST /model/parse`)": _poster(
                ours, f"{context.ours_url}/model/parse", {"text": context.order_text}
            ),
            **{
                f"action server: `{name}` (its CRM calls included)": action_call(name, state)
                for name, state in remote_calls(tracker, domain).items()
            },
            "CRM alone: `POST /api/orders/lookup`": _poster(
                client,
                f"{context.crm_url}/api/orders/lookup",
                lookup,
                Authorization=f"Bearer {context.service_token}",
            ),
        }
        timings = [await time_part(name, call, calls=calls) for name, call in parts.items()]

    redis = aioredis.Redis.from_url(context.redis_url)
    try:
        key = await _tracker_key(redis, context.redis_key_prefix, context.sender)

        async def read_tracker() -> None:
            await redis.get(key)

        size = await redis.strlen(key)
        timings.append(
            await time_part(f"Redis: `GET` of the tracker ({size:,} bytes)", read_tracker, calls=calls)
        )
    finally:
        await redis.aclose()
    return timings
