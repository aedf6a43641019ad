"""`make bench-crm`: the order lookup against a trivial endpoint, PostgreSQL with 1M orders.

Builds (once; later runs reuse it) the database `crm_bench` with 100k customers and 1M
orders, starts the CRM with uvicorn, and loads it with wrk from this machine: first
`GET /livez` (FastAPI, no database) as the baseline, then `POST /api/orders/lookup` with
random (order number, email) pairs, same server, same settings, same run. Prints req/s and
p50/p95/p99 for both and their ratio, and records the run in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import random
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql

from bench import report, server, wrk
from crm_backend.cli import ALEMBIC_INI
from crm_backend.demo.generate import generate
from crm_backend.orders.documents import DEFER_SETTING

NAME = "bench-crm"
DATABASE = "crm_bench"
ADMIN_URL = os.environ.get("CRM_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CUSTOMERS, ORDERS = 100_000, 1_000_000
SAMPLE_PAIRS = 10_000
TARGET_RATIO, TARGET_P99_MS = 0.50, 50.0
HISTORY_HEADER = (
    "date",
    "commit",
    "server",
    "livez req/s",
    "lookup req/s",
    "ratio",
    "lookup p99 ms",
    "targets",
    "note",
)
LOOKUP = "/api/orders/lookup"
TRIVIAL = "/livez"
METHODS = {TRIVIAL: "GET", LOOKUP: "POST"}


def _database_url(name: str) -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def _migrate(url: str) -> None:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "heads")


def _counts(url: str) -> tuple[int, int]:
    with psycopg.connect(url) as connection:
        customers = connection.execute("SELECT count(*) FROM customers").fetchone()
        orders = connection.execute("SELECT count(*) FROM orders").fetchone()
    return (customers[0] if customers else 0, orders[0] if orders else 0)


def _vacuum_once(url: str, table: str) -> None:
    """VACUUM (ANALYZE) `table` if it never was: a migration may just have filled it."""
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT coalesce(last_vacuum, last_autovacuum) IS NULL"
            " FROM pg_stat_user_tables WHERE relname = %s",
            (table,),
        ).fetchone()
        if row is not None and row[0]:
            print(f"{NAME}: VACUUM (ANALYZE) of {table} (once)")
            connection.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))


def prepare_database(name: str, *, customers: int, orders: int) -> str:
    """Create, migrate and fill database `name`, or reuse it when it already holds the right counts."""
    url = _database_url(name)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _migrate(url)
    found = _counts(url)
    if found == (customers, orders):
        print(f"{NAME}: reusing database {name} ({customers:,} customers, {orders:,} orders)")
        _vacuum_once(url, "order_documents")
        return url
    if found != (0, 0):
        print(f"{NAME}: database {name} holds {found[0]:,} customers, {found[1]:,} orders; rebuilding it")
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        _migrate(url)
    print(f"{NAME}: generating {customers:,} customers and {orders:,} orders into {name} (once)")
    summary = generate(url, customers=customers, orders=orders)
    print(f"{NAME}: generated {sum(summary.rows.values()):,} rows in {summary.seconds:.0f} s")
    # Left to autovacuum, the first vacuum of ~9M freshly copied rows (minutes of I/O) would
    # run during some later measurement, and the first reads would set every hint bit.
    print(f"{NAME}: VACUUM (ANALYZE) of {name} (once)")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    return url


# What the lookup reads: the read model's number index and its rows (orders/documents.py).
LOOKUP_RELATIONS = ("uq_order_documents_number", "order_documents")


def prewarm(url: str) -> None:
    """Read the lookup's tables and indexes into the OS page cache (pg_prewarm), when available.

    This machine's kernel pages out memory left cold (DAMON), page cache included: a database
    not read for a while is on disk again, and the 10,000 sampled orders then take I/O waits
    for far longer than the warm-up, so a run would time the disk instead of the CRM.
    """
    with psycopg.connect(url, autocommit=True) as connection:
        try:
            connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except psycopg.Error as exc:
            print(f"{NAME}: no pg_prewarm ({exc.sqlstate}); measuring with whatever is cached")
            return
        present = connection.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s)", (list(LOOKUP_RELATIONS),)
        ).fetchall()
        for (relation,) in present:
            connection.execute("SELECT pg_prewarm(%s::regclass, 'read')", (relation,))


@dataclass(frozen=True)
class WriteCost:
    """Client-side ms per order write, with the read model's triggers and with them deferred."""

    orders: int
    maintained_ms: float
    deferred_ms: float

    def describe(self) -> str:
        extra = self.maintained_ms - self.deferred_ms
        return (
            f"writes (UPDATE of an order + INSERT of its status change, {self.orders:,} orders each way, "
            f"rolled back): {self.maintained_ms:.2f} ms per order with the read model kept, "
            f"{self.deferred_ms:.2f} ms with its triggers deferred (+{extra:.2f} ms)"
        )


def write_cost(url: str, *, orders: int = 400, rounds: int = 4) -> WriteCost:
    """What keeping the lookup's read model costs a write, measured in one rolled-back transaction.

    Rounds alternate between the triggers running and deferred (as a bulk load defers them),
    on distinct random orders, so both see the same machine.
    """
    spent = {True: 0.0, False: 0.0}
    with psycopg.connect(url) as connection:
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM orders ORDER BY random() LIMIT %s", (orders * rounds,)
            ).fetchall()
        ]
        for round_ in range(rounds):
            maintained = round_ % 2 == 0
            connection.execute(
                "SELECT set_config(%s, %s, true)", (DEFER_SETTING, "off" if maintained else "on")
            )
            started = time.perf_counter()
            for order_id in ids[round_ * orders : (round_ + 1) * orders]:
                connection.execute("UPDATE orders SET updated_at = now() WHERE id = %s", (order_id,))
                connection.execute(
                    "INSERT INTO order_status_changes (order_id, status, changed_at, note)"
                    " VALUES (%s, 'paid', now(), 'bench-crm')",
                    (order_id,),
                )
            spent[maintained] += time.perf_counter() - started
        connection.rollback()
    per_order = {mode: seconds * 1000 / (orders * rounds / 2) for mode, seconds in spent.items()}
    return WriteCost(orders * rounds // 2, per_order[True], per_order[False])


def _postgres_version(url: str) -> str:
    with psycopg.connect(url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"


def _commit() -> str:
    """The checked-out commit, marked when the work tree has changes: what was measured."""

    def git(*args: str) -> str:
        # Read-only: no optional lock, so a concurrent commit never finds the index locked.
        env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
        done = subprocess.run(
            ["git", *args], cwd=report.REPO_ROOT, env=env, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head}+changes" if git("status", "--porcelain", "--untracked-files=no") else head


def sample_bodies(url: str, path: Path, *, count: int) -> dict[str, str]:
    """Write `count` random lookup bodies (one JSON per line) to `path`; return the first."""
    with psycopg.connect(url) as connection:
        low, high = connection.execute("SELECT min(id), max(id) FROM orders").fetchone() or (1, 0)
        ids = random.Random(7).sample(  # noqa: S311  # a fixed sample, not a secret
            range(low, high + 1), min(count, high - low + 1)
        )
        rows = connection.execute("SELECT number, email FROM orders WHERE id = ANY(%s)", (ids,)).fetchall()
    bodies = [{"order_number": number, "email": email} for number, email in rows]
    path.write_text("".join(json.dumps(body) + "\n" for body in bodies))
    return bodies[0]


def check_lookup(base: str, token: str, body: dict[str, str]) -> None:
    """One lookup must find its order, or the benchmark would time the 404 path."""
    request = urllib.request.Request(  # noqa: S310
        base + LOOKUP,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            found = json.loads(response.read())["number"]
    except urllib.error.HTTPError as exc:
        raise SystemExit(
            f"{NAME}: lookup of {body['order_number']} answered {exc.code}: {exc.read()[:300]!r}"
            " (does crm_backend/orders/numbers.py accept this many digits?)"
        ) from None
    if found != body["order_number"]:
        raise SystemExit(f"{NAME}: lookup of {body['order_number']} returned {found}")


def _verdict(trivial: wrk.Result, lookup: wrk.Result) -> tuple[float, bool, str]:
    ratio = lookup.rps / trivial.rps if trivial.rps else 0.0
    fast, steady = ratio >= TARGET_RATIO, lookup.p99_ms <= TARGET_P99_MS
    text = (
        f"ratio {ratio:.2f} (target ≥ {TARGET_RATIO:.2f}: {'met' if fast else 'NOT met'}), "
        f"lookup p99 {lookup.p99_ms:.1f} ms "
        f"(target ≤ {TARGET_P99_MS:.0f} ms: {'met' if steady else 'NOT met'})"
    )
    return ratio, fast and steady, text


def _table(results: dict[str, wrk.Result]) -> str:
    header = ["endpoint", "req/s", "p50 ms", "p95 ms", "p99 ms", "requests", "errors"]
    rows = []
    for path, r in results.items():
        latencies = [f"{ms:.1f}" for ms in (r.p50_ms, r.p95_ms, r.p99_ms)]
        rows.append(
            [f"`{METHODS[path]} {path}`", f"{r.rps:,.0f}", *latencies, f"{r.requests:,}", str(r.errors)]
        )
    return report.markdown_table(header, rows)


def record(
    args: argparse.Namespace, results: dict[str, wrk.Result], writes: WriteCost, per_round: str, setup: str
) -> None:
    """Rewrite this benchmark's section of docs/benchmarks.md, keeping its history and notes."""
    trivial, lookup = results[TRIVIAL], results[LOOKUP]
    ratio, met, verdict = _verdict(trivial, lookup)
    date, verdict_word, commit = report.now(), "met" if met else "not met", _commit()
    workers = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
    command_line = "make bench-crm" + (f' BENCH_ARGS="{args.raw}"' if args.raw else "")
    history = report.keep_history(
        report.history(NAME),
        f"| {date} | {commit} | {workers} | {trivial.rps:,.0f} | {lookup.rps:,.0f} | {ratio:.2f} | "
        f"{lookup.p99_ms:.1f} | {verdict_word} | {args.note} |",
    )
    details = [f"- date: {date}", f"- commit: {commit}", f"- command: `{command_line}`"]
    details += [f"- machine: {report.machine()}", f"- server: {setup}", f"- ratio per round: {per_round}"]
    if args.note:
        details.append(f"- note: {args.note}")
    newline = "\n"
    report.write_section(
        NAME,
        f"""## bench-crm: order lookup against a trivial endpoint

Measures `POST {LOOKUP}` (verify an order by number + email, return it with its items,
parcels, history, returns and refunds) against `GET {TRIVIAL}` (a FastAPI endpoint that
touches nothing), on one server with the same settings, in the same run.

- data: PostgreSQL database `{args.database}`, {args.customers:,} customers and {args.orders:,} orders from `crm_backend.demo.generate`, built by the first run and reused by later ones; drop it with `psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE {args.database} WITH (FORCE)'`
- load: wrk on 127.0.0.1, {args.connections} connections on {args.threads} threads; the lookup's read model (table and index) read into the page cache (pg_prewarm) first, {args.warmup:.0f} s warm-up, then {args.duration:.0f} s per endpoint in {args.rounds} rounds, the endpoints in turn (req/s over all rounds; each percentile the slowest round's); lookups POST random (number, email) pairs among {SAMPLE_PAIRS:,} sampled orders
- targets: lookup throughput ≥ {TARGET_RATIO:.0%} of `{TRIVIAL}`'s; lookup p99 ≤ {TARGET_P99_MS:.0f} ms

### Latest run

{newline.join(details)}

{_table(results)}

Result: {verdict}; targets **{verdict_word}**.

The lookup reads a read model that triggers keep current on every write (`crm_backend/orders/documents.py`); its cost to writes, same run: {writes.describe()}.

### History

{report.markdown_table(HISTORY_HEADER, [])}
{newline.join(history)}
""",  # noqa: E501  # Markdown list items stay on one line
    )
    print(f"{NAME}: recorded in {report.BENCHMARKS_DOC.relative_to(report.REPO_ROOT)}")


def run(args: argparse.Namespace, url: str) -> tuple[dict[str, list[wrk.Result]], WriteCost]:
    """Serve the CRM on `url`, warm it up, load the endpoints in turn for `args.rounds` rounds, time writes.

    Alternating short phases instead of one long phase each: this machine's speed drifts
    over minutes (`/livez` alone has moved 5,000 to 9,500 req/s within an hour), and
    alternation gives both endpoints the same mix of fast and slow moments.
    """
    token = secrets.token_urlsafe(32)
    env = {
        "CRM_ENVIRONMENT": "production",
        "CRM_DATABASE_URL": url,
        "CRM_SERVICE_TOKEN": token,
        "CRM_SECRET_KEY": secrets.token_urlsafe(32),
    }
    with tempfile.TemporaryDirectory(prefix="bench-crm-") as tmp:
        folder = Path(tmp)
        bodies = folder / "lookups.jsonl"
        first = sample_bodies(url, bodies, count=SAMPLE_PAIRS)
        crm = server.serve(
            "crm_backend.main:create_app",
            env=env,
            workers=args.workers,
            live_path=TRIVIAL,
            log=folder / "crm.log",
        )
        with crm as base:
            check_lookup(base, token, first)

            def measure(path: str, seconds: float) -> wrk.Result:
                lookup = path == LOOKUP
                return wrk.run(
                    base + path,
                    seconds=seconds,
                    connections=args.connections,
                    threads=args.threads,
                    token=token if lookup else None,
                    bodies=bodies if lookup else None,
                )

            rounds: dict[str, list[wrk.Result]] = {TRIVIAL: [], LOOKUP: []}
            with exclusive(args.lock):
                # Into the page cache first: this kernel pages out what stays unread for
                # about a minute, and the phases below never leave the lookup idle that long.
                prewarm(url)
                if args.warmup:
                    print(f"{NAME}: warming up ({args.warmup:.0f} s per endpoint)")
                    for path in (TRIVIAL, LOOKUP):
                        measure(path, args.warmup)
                print(
                    f"{NAME}: measuring {args.rounds} rounds of {args.duration / args.rounds:.0f} s"
                    f" per endpoint, in turn, {args.connections} connections"
                )
                for _ in range(args.rounds):
                    for path in (TRIVIAL, LOOKUP):
                        rounds[path].append(measure(path, args.duration / args.rounds))
                print(f"{NAME}: timing writes with and without the read model's triggers")
                writes = write_cost(url)
    return rounds, writes


@contextmanager
def exclusive(lock: Path | None) -> Iterator[None]:
    """Hold `lock` exclusively (flock) while measuring, so a shared machine keeps quiet meanwhile."""
    if lock is None:
        yield
        return
    with lock.open("a") as handle:
        print(f"{NAME}: waiting for the exclusive lock {lock}")
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bench.crm`."""
    parser = argparse.ArgumentParser(prog="python -m bench.crm", description=__doc__)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per endpoint")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load per endpoint before")
    parser.add_argument("--rounds", type=int, default=10, help="phases per endpoint, taken in turn")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    parser.add_argument("--orders", type=int, default=ORDERS)
    parser.add_argument("--no-record", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--note", default="", help="a remark recorded with the run")
    parser.add_argument(
        "--lock", type=Path, default=None, help="flock this file exclusively around the measurement only"
    )
    args = parser.parse_args(argv)
    args.raw = shlex.join(sys.argv[1:] if argv is None else argv)
    if not 1 <= args.duration <= 120 or not 0 <= args.warmup <= 60:
        parser.error("--duration must be 1-120 s and --warmup 0-60 s")
    if not 1 <= args.rounds <= args.duration:
        parser.error("--rounds must be 1 to --duration (at least 1 s per phase)")

    url = prepare_database(args.database, customers=args.customers, orders=args.orders)
    try:
        rounds, writes = run(args, url)
    except (server.ServerError, wrk.WrkError) as exc:
        print(f"{NAME}: {exc}", file=sys.stderr)
        return 1
    results = {path: wrk.combine(parts) for path, parts in rounds.items()}
    per_round = ", ".join(
        f"{lookup.rps / trivial.rps:.2f}" if trivial.rps else "-"
        for trivial, lookup in zip(rounds[TRIVIAL], rounds[LOOKUP], strict=True)
    )
    print(f"{NAME}: ratio per round: {per_round}")
    print(f"\n{_table(results)}\n\n{NAME}: {_verdict(results[TRIVIAL], results[LOOKUP])[2]}")
    print(f"{NAME}: {writes.describe()}")
    if any(r.errors for r in results.values()):
        print(
            f"{NAME}: some requests failed; the numbers are not comparable and not recorded", file=sys.stderr
        )
        return 1
    if not args.no_record:
        setup = f"{server.describe(args.workers)}; PostgreSQL {_postgres_version(url)}"
        record(args, results, writes, per_round, setup)
    return 0


if __name__ == "__main__":
    sys.exit(main())
