"""`make bench-handoff`: latency and delivery of messages both ways during a handoff.

Starts the real stack once (devstack: CRM on a temporary PostgreSQL or SQLite database with
the demo seed, the action server, Rasa with its Redis stores and event broker, the machine's
Redis), has N widget customers ask for a person, logs an agent in who claims them all with
/api/live open, then times agent replies to the widgets and customer messages to the console
against same-run baselines of the bare transports (bench/handoff_paths.py), checks the CRM's
record of every conversation, prints the tables and targets and records them in
docs/benchmarks.md (bench/handoff_report.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shlex
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from redis.asyncio import Redis

from bench import handoff_report
from bench.handoff_clients import HANDOFF_REQUEST, LiveConsole, WidgetSocket
from bench.handoff_metrics import PathRecorder, StoreCheck, check_store, combine
from bench.handoff_paths import (
    AGENT,
    CUSTOMER,
    PUBSUB,
    RASA,
    TO_CONSOLE,
    TO_WIDGET,
    Arrivals,
    Schedule,
    Senders,
    run_phase,
    wait_until,
)
from bench.handoff_report import NAME, Run
from bench.report import current_commit
from bench.throwaway import check_redis, database_url, delete_keys
from devstack import model
from devstack.paths import DATA_DIR
from devstack.services import ServiceFailed, free_port
from devstack.stack import Stack, StackConfig

LOG_DIR = DATA_DIR / "logs" / NAME
SERVER_ENV = {"SANIC_WORKERS": "1"}


@contextmanager
def running_stack(args: argparse.Namespace) -> Iterator[StackConfig]:
    """The whole stack on free ports, stopped and its Redis keys deleted on exit."""
    check_redis(args.redis_url)
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    key_prefix = f"benchhandoff{uuid.uuid4().hex[:10]}"
    with ExitStack() as cleanup:
        config = StackConfig(
            crm_port=free_port(),
            actions_port=free_port(),
            rasa_port=free_port(),
            database_url=cleanup.enter_context(
                database_url(args.database, LOG_DIR, prefix="crm_bench_handoff")
            ),
            redis_url=args.redis_url,
            redis_key_prefix=key_prefix,
            service_token=secrets.token_urlsafe(24),
            rasa_token=secrets.token_urlsafe(24),
            log_dir=LOG_DIR,
            model_file=args.model or model.model_path(),
            extra_env=SERVER_ENV,
        )
        stack = Stack(config)
        cleanup.callback(delete_keys, args.redis_url, key_prefix)
        cleanup.callback(stack.stop)
        print(f"{NAME}: starting the stack ({args.database}); logs in {LOG_DIR}", flush=True)
        stack.start()
        yield config


async def open_conversations(
    config: StackConfig, console: LiveConsole, arrivals: Arrivals, count: int
) -> list[WidgetSocket]:
    """`count` widget customers, each asking for a person, their handoffs claimed by the agent."""
    sockets: list[WidgetSocket] = []
    for number in range(count):
        socket = await asyncio.to_thread(
            WidgetSocket, config.rasa_url, f"c{number:02d}", arrivals.on(TO_WIDGET)
        )
        sockets.append(socket)
        socket.say(HANDOFF_REQUEST)
        await asyncio.to_thread(socket.wait_for_reply, "queue")
        handoff = await console.wait_for_handoff(socket.session_id)
        socket.handoff_id = int(handoff["id"])
        claim = await console.http.post(f"/api/handoffs/{socket.handoff_id}/claim")
        # The claim answers once Rasa took the "agent joined" notice: the socket has it or will.
        claim.raise_for_status()
    return sockets


async def check_records(
    console: LiveConsole, senders: Senders, sockets: list[WidgetSocket], timeout_s: float
) -> StoreCheck:
    """Each conversation's CRM record against what was sent in it, once the stream caught up."""
    checks: dict[str, StoreCheck] = {}

    async def all_there() -> bool:
        for socket in sockets:
            expected = senders.stored_log.get(socket.session_id, [])
            checks[socket.session_id] = check_store(expected, await console.stored_texts(socket.session_id))
        return all(check.missing == 0 for check in checks.values())

    deadline = time.monotonic() + timeout_s
    while not await all_there() and time.monotonic() < deadline:  # noqa: ASYNC110 (polls the CRM)
        await asyncio.sleep(0.5)
    return combine(list(checks.values()))


async def measure(
    config: StackConfig, args: argparse.Namespace
) -> tuple[dict[str, PathRecorder], StoreCheck, Senders]:
    """Open the conversations, warm every path up, run the alternating rounds, check the record."""
    arrivals = Arrivals()
    console = LiveConsole(config.crm_url, arrivals.on(TO_CONSOLE))
    async with (
        httpx.AsyncClient(base_url=config.rasa_url, params={"token": config.rasa_token}, timeout=30) as rasa,
        Redis.from_url(args.redis_url) as redis_client,
    ):
        await console.open()
        try:
            sockets = await open_conversations(config, console, arrivals, args.conversations)
            senders = Senders(console.http, rasa, redis_client, f"{config.redis_key_prefix}:live")
            per_round = max(1, args.messages // (args.rounds * args.conversations))
            schedule = Schedule(per_round, args.interval, args.settle)
            warmup = Schedule(args.warmup, args.interval, args.settle, schedule.next_sequence)
            print(
                f"{NAME}: {len(sockets)} conversations claimed; warm-up {args.warmup} per path and "
                f"conversation, then {args.rounds} rounds of {per_round} per path and conversation",
                flush=True,
            )
            if args.warmup:
                for path in (*TO_WIDGET, *TO_CONSOLE):
                    arrivals.recorders[path] = PathRecorder(f"{path} warm-up")
                    await run_phase(path, sockets, arrivals.recorders[path], senders, warmup)
            recorders = {path: PathRecorder(path) for path in (AGENT, RASA, CUSTOMER, PUBSUB)}
            arrivals.recorders.update(recorders)
            senders.agent_post_ms.clear()
            for number in range(args.rounds):
                for baseline, ours in (TO_WIDGET, TO_CONSOLE):
                    for path in (baseline, ours) if number % 2 == 0 else (ours, baseline):
                        print(f"{NAME}: round {number + 1}/{args.rounds}: {path}", flush=True)
                        await run_phase(path, sockets, recorders[path], senders, schedule)
            if not console.live_is_open:
                raise ServiceFailed("the console's /api/live socket closed during the run")
            store = await check_records(console, senders, sockets, args.settle * 3)
            # Late arrivals after a phase's settle time still count as lost; give stragglers
            # a moment only so they do not show up as noise in the logs.
            await wait_until(lambda: False, 0.2)
            for socket in sockets:
                await asyncio.to_thread(socket.close)
            return recorders, store, senders
        finally:
            await console.close()


def setup_lines(config: StackConfig, database: str) -> list[str]:
    """How the stack ran, for the record."""
    model_file = config.model_file or Path("?")
    return [
        f"- stack: model `{model_file.name}`, `rasa run --enable-api` (1 Sanic worker) with the socket.io "
        "channel, Redis tracker/lock stores and event broker on the machine's Redis; rasa-sdk action "
        f"server; CRM (uvicorn, 1 worker) on a temporary {database} database with the demo seed; "
        "started once by devstack; the benchmark's clients in one process beside them",
    ]


def run(args: argparse.Namespace, raw: str) -> Run:
    """Start the stack, measure, stop everything."""
    started = time.perf_counter()
    with running_stack(args) as config:
        recorders, store, senders = asyncio.run(measure(config, args))
        setup = setup_lines(config, args.database)
    per_round = max(1, args.messages // (args.rounds * args.conversations))
    measured = per_round * args.rounds * args.conversations
    load = [
        f"- load: {args.conversations} conversations at once, each sending one message every "
        f"{args.interval:g} s on the path being measured (staggered: {args.conversations / args.interval:g} "
        f"messages/s in all); {measured} measured messages per path in {args.rounds} rounds alternating "
        f"baseline and ours, after {args.warmup} warm-up messages per path and conversation; "
        f"settle time {args.settle:g} s after a phase's last message",
    ]
    return Run(
        paths={name: recorder.result() for name, recorder in recorders.items()},
        store=store,
        agent_post_ms=tuple(senders.agent_post_ms),
        load=load,
        setup=setup,
        seconds=time.perf_counter() - started,
        command_line="make bench-handoff" + (f' BENCH_ARGS="{raw}"' if raw else ""),
        commit=current_commit(),
        database=args.database,
        note=args.note,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bench.handoff`."""
    parser = argparse.ArgumentParser(prog="python -m bench.handoff", description=__doc__)
    parser.add_argument("--conversations", type=int, default=8, help="customers in a handoff at once")
    parser.add_argument("--messages", type=int, default=256, help="measured messages per path, all rounds")
    parser.add_argument(
        "--interval", type=float, default=0.5, help="seconds between a conversation's messages"
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds alternating baseline and ours")
    parser.add_argument("--warmup", type=int, default=2, help="untimed messages per path and conversation")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to wait for stragglers per phase")
    parser.add_argument("--model", type=Path, default=None, help="model file (default: current bot/ inputs)")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--no-record", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--note", default="", help="a remark recorded with the run")
    args = parser.parse_args(argv)
    raw = shlex.join(sys.argv[1:] if argv is None else argv)
    if min(args.conversations, args.messages, args.rounds) < 1 or args.warmup < 0 or args.interval <= 0:
        parser.error("--conversations, --messages and --rounds must be ≥ 1, --warmup ≥ 0, --interval > 0")
    try:
        result = run(args, raw)
    except (ServiceFailed, TimeoutError, httpx.HTTPError, OSError) as exc:
        print(f"{NAME}: {exc!r}", file=sys.stderr)
        return 1
    handoff_report.print_run(result)
    if not args.no_record:
        handoff_report.record(result)
    return 0 if result.met else 2


if __name__ == "__main__":
    sys.exit(main())
