"""`make bench-bot`: an order-status turn of our assistant against a bare `rasa init` model.

Starts our whole stack once (devstack: CRM with the demo seed on a temporary PostgreSQL
database, the action server, Rasa with Redis tracker and lock stores as bot/endpoints.yml
configures them) and, beside it, the moodbot `rasa init` makes (bench/bot_bare.py), served the
same way: same entry point and flags, and the same endpoints.yml (its own Redis key prefix).
Each server is sent turns over the REST channel by 1, 10 and 20 concurrent conversations
(bench/bot_load.py): ours one message carrying a demo order's number and email, answered with
the order's status; the moodbot "hello". Servers and rounds alternate, because
this machine is shared and noisy. Then the parts of our turn are timed alone
(bench/bot_breakdown.py). Prints p50/p95/throughput, the ratios against the bare model and the
targets, and records the run in docs/benchmarks.md (bench/bot_report.py).
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
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import bot_bare, bot_report
from bench.bot_breakdown import PartTiming, TurnContext, measure_parts
from bench.bot_load import LevelResult, Probe, Target, measure_level, run_turns, send_turn
from bench.bot_report import NAME, Comparison, Run
from bench.crm import _commit as current_commit
from bench.throwaway import check_redis, database_url, delete_keys
from crm_backend.demo.seed import DEMO_CUSTOMER_EMAIL, DEMO_ORDERS
from devstack import model
from devstack.paths import DATA_DIR
from devstack.services import ServiceFailed, free_port
from devstack.stack import Stack, StackConfig, rasa_redis_env

LEVELS = (1, 10, 20)
LOG_DIR = DATA_DIR / "logs" / NAME
BARE_PROBE = Probe("hello", "Hey! How are you?")
# Rasa's default is one Sanic worker; both servers get the same (the Redis lock store would allow more).
SERVER_ENV = {"SANIC_WORKERS": "1"}
# Loading the TensorFlow models takes most of a minute each on two cores.
BARE_START_TIMEOUT_S = 240.0


@dataclass(frozen=True, slots=True)
class Servers:
    """Both Rasa servers, up and answering, and what the benchmark needs to know about ours."""

    stack: StackConfig
    redis_url: str
    bare_url: str
    database: str


def order_probes(config: StackConfig) -> tuple[Probe, ...]:
    """The seed's hand-picked demo orders that the CRM lists, each as one message with number and email."""
    with httpx.Client(base_url=config.crm_url, timeout=30) as client:
        response = client.get(
            "/api/orders",
            params={"email": DEMO_CUSTOMER_EMAIL, "limit": 200},
            headers={"Authorization": f"Bearer {config.service_token}"},
        )
        response.raise_for_status()
        listed = {str(order["number"]) for order in response.json()["items"]}
    # Shipped (with tracking), paid and delivered: the status answer's three shapes.
    numbers = [order.number for order in DEMO_ORDERS if order.number in listed]
    if not numbers:
        raise ServiceFailed(f"crm: none of the demo orders is listed for {DEMO_CUSTOMER_EMAIL}")
    return tuple(
        Probe(f"where is order {number}? my email is {DEMO_CUSTOMER_EMAIL}", number) for number in numbers
    )


@contextmanager
def running_servers(args: argparse.Namespace, project: Path) -> Iterator[Servers]:
    """Our stack and the bare model, started once; everything stopped and cleaned up on exit."""
    check_redis(args.redis_url)
    # Fresh logs per run: services append to theirs.
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    key_prefix = f"benchbot{uuid.uuid4().hex[:10]}"
    with ExitStack() as cleanup:
        url = cleanup.enter_context(database_url(args.database, LOG_DIR, prefix="crm_bench_bot"))
        config = StackConfig(
            crm_port=free_port(),
            actions_port=free_port(),
            rasa_port=free_port(),
            database_url=url,
            redis_url=args.redis_url,
            redis_key_prefix=key_prefix,
            service_token=secrets.token_urlsafe(24),
            log_dir=LOG_DIR,
            # Fixed now: the bot's data may change while the run goes on.
            model_file=args.model or model.model_path(),
            extra_env=SERVER_ENV,
        )
        bare_port = free_port()
        bare_prefix = f"{key_prefix}bare"
        bare_env = {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
            # Our endpoints.yml, its own keys: the same Redis stores and event stream as ours.
            **rasa_redis_env(args.redis_url, bare_prefix),
            "ACTION_ENDPOINT_URL": f"{config.actions_url}/webhook",  # the moodbot has no custom action
        }
        bare = bot_bare.bare_service(project, port=bare_port, env={**bare_env, **SERVER_ENV}, log_dir=LOG_DIR)
        stack = Stack(config)
        cleanup.callback(delete_keys, args.redis_url, key_prefix)
        cleanup.callback(delete_keys, args.redis_url, bare_prefix)
        cleanup.callback(stack.stop)
        cleanup.callback(bare.stop)
        # The bare model loads while our stack starts: two cold starts overlap, a minute saved.
        bare.start()
        print(
            f"{NAME}: starting our stack ({args.database}) and the bare model; logs in {LOG_DIR}", flush=True
        )
        stack.start()
        bare.wait_healthy(BARE_START_TIMEOUT_S)
        yield Servers(config, args.redis_url, f"http://{bot_bare.HOST}:{bare_port}", args.database)


async def check_replies(targets: list[Target]) -> None:
    """Every probe once per server: a wrong reply stops the run before anything is measured."""
    for target in targets:
        async with httpx.AsyncClient(timeout=60) as client:
            outcomes, _ = await run_turns(client, target, concurrency=1, turns=len(target.probes))
        for outcome in outcomes:
            if outcome.error:
                raise ServiceFailed(f"{target.name}: {outcome.error}")


async def measure_levels(bare: Target, ours: Target, args: argparse.Namespace) -> list[Comparison]:
    """Each concurrency: rounds alternating bare-ours / ours-bare, the turns pooled per server."""
    per_round = max(1, args.turns // args.rounds)
    comparisons = []
    for concurrency in LEVELS:
        results = {bare.name: LevelResult(), ours.name: LevelResult()}
        for number in range(args.rounds):
            for target in (bare, ours) if number % 2 == 0 else (ours, bare):
                print(
                    f"{NAME}: c={concurrency} round {number + 1}/{args.rounds}: {target.name}, "
                    f"{args.warmup} warm-up + {per_round} turns",
                    flush=True,
                )
                measured = await measure_level(
                    target, concurrency=concurrency, turns=per_round, warmup=args.warmup
                )
                results[target.name].add(*measured)
        comparisons.append(Comparison(concurrency, results[bare.name], results[ours.name]))
    return comparisons


async def breakdown(servers: Servers, ours: Target, *, calls: int) -> list[PartTiming]:
    """One more order-status conversation, then its parts replayed alone (bench/bot_breakdown.py)."""
    config = servers.stack
    probe = ours.probes[0]
    async with httpx.AsyncClient(timeout=60) as client:
        turn = await send_turn(client, Target(ours.name, ours.base_url, (probe,)), 0)
    if turn.error:
        raise ServiceFailed(f"ours: {turn.error}")
    context = TurnContext(
        ours_url=config.rasa_url,
        bare_url=servers.bare_url,
        actions_url=config.actions_url,
        crm_url=config.crm_url,
        service_token=config.service_token,
        rasa_token=config.rasa_token,
        redis_url=servers.redis_url,
        redis_key_prefix=config.redis_key_prefix,
        sender=turn.sender,
        order_text=probe.text,
        bare_text=BARE_PROBE.text,
        order_number=probe.expect,
        email=DEMO_CUSTOMER_EMAIL,
    )
    return await measure_parts(context, calls=calls)


def setup_lines(servers: Servers, version: str) -> list[str]:
    """How the two servers ran, for the record."""
    model_file = servers.stack.model_file or Path("?")
    return [
        f"- ours: model `{model_file.name}`, Rasa {version} `rasa run --enable-api` (1 Sanic worker), "
        "rasa-sdk action server, "
        f"CRM (uvicorn, 1 worker) on a temporary {servers.database} database with the demo seed, "
        "Redis tracker and lock stores on the machine's Redis; started once by devstack",
        f"- bare: `rasa init --no-prompt` moodbot (Rasa {version}), `rasa run --enable-api` with the same "
        "flags, 1 Sanic worker and our bot/endpoints.yml (the same Redis tracker store, lock store and "
        "event stream, under its own key prefix); up during the whole run beside ours",
    ]


def run(args: argparse.Namespace, raw: str) -> Run:
    """Start the servers, check the replies, measure every level and the parts; stop everything."""
    started = time.perf_counter()
    version = bot_bare.rasa_version()
    project = bot_bare.ensure_project(version)
    with running_servers(args, project) as servers:
        ours = Target("ours", servers.stack.rasa_url, order_probes(servers.stack))
        bare = Target("bare", servers.bare_url, (BARE_PROBE,))
        print(f"{NAME}: our probes: {[p.text for p in ours.probes]}", flush=True)
        asyncio.run(check_replies([bare, ours]))
        comparisons = asyncio.run(measure_levels(bare, ours, args))
        parts: list[PartTiming] = []
        if args.part_calls:
            print(f"{NAME}: timing the parts of our turn alone ({args.part_calls} calls each)", flush=True)
            parts = asyncio.run(breakdown(servers, ours, calls=args.part_calls))
        setup = setup_lines(servers, version)
    return Run(
        comparisons=comparisons,
        parts=parts,
        setup=setup,
        seconds=time.perf_counter() - started,
        command_line="make bench-bot" + (f' BENCH_ARGS="{raw}"' if raw else ""),
        commit=current_commit(),
        database=args.database,
        note=args.note,
    )


def print_run(result: Run) -> None:
    """The tables, the failed turns if any, and the verdict."""
    print(f"\n{bot_report.results_table(result.comparisons)}\n")
    if result.parts:
        print(f"{bot_report.parts_table(result.parts)}\n")
    for line in bot_report.error_lines(result.comparisons):
        print(line)
    print(f"{NAME}: {bot_report.verdict(result)}; run time {result.seconds:.0f} s")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bench.bot_turns`."""
    parser = argparse.ArgumentParser(prog="python -m bench.bot_turns", description=__doc__)
    parser.add_argument("--turns", type=int, default=200, help="measured turns per server and concurrency")
    parser.add_argument("--warmup", type=int, default=20, help="untimed turns before each measurement")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds the turns are split into")
    parser.add_argument("--part-calls", type=int, default=100, help="calls per part of the turn; 0 skips")
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="our model file (default: the one for the current bot/ inputs)",
    )
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--no-record", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--note", default="", help="a remark recorded with the run")
    args = parser.parse_args(argv)
    raw = shlex.join(sys.argv[1:] if argv is None else argv)
    if args.turns < 1 or args.rounds < 1 or args.warmup < 0 or args.part_calls < 0:
        parser.error("--turns and --rounds must be ≥ 1, --warmup and --part-calls ≥ 0")

    try:
        result = run(args, raw)
    except (ServiceFailed, bot_bare.BareModelError, httpx.HTTPError) as exc:
        print(f"{NAME}: {exc}", file=sys.stderr)
        return 1
    print_run(result)
    if any(c.errors for c in result.comparisons):
        print(f"{NAME}: some turns failed; the numbers are not comparable and not recorded", file=sys.stderr)
        return 1
    if not args.no_record:
        levels = {
            "concurrency": ", ".join(map(str, LEVELS)),
            "turns": f"{args.turns} measured per server and concurrency after {args.warmup} warm-up turns, "
            f"in {args.rounds} rounds alternating the servers",
        }
        bot_report.record(result, levels=levels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
