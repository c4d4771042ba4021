"""Storage of one long conversation: bytes per 1,000-turn thread on SQLite and on PostgreSQL,
before and after `SupportAgent.prune()` (supportgraph/runtime/retention.py).

    python bench/storage.py                 # both engines, 1,000 turns each (~3 minutes)
    python bench/storage.py --turns 200 --engines sqlite

Each engine gets a fresh data dir (models and KB index linked from an already warm one,
`--warm-dir`, default the user data dir) and, for PostgreSQL, a fresh database on
`--postgres` (created here, dropped afterwards). One thread receives `--turns` short messages
through `SupportAgent.send`, a fixed list cycled (greetings, order tracking, an email,
shipping and returns questions, thanks). The repetition rule is switched off
(`repeat_limit`): a list cycled would ask the same shipping question more than 3 times and
hand the thread to a human, after which messages queue without running the graph.

What is measured, with the rows of the dead kept out on both engines:
- SQLite: bytes of the pages each table and its indexes use (the `dbstat` virtual table), and
  the file after VACUUM.
- PostgreSQL: `pg_total_relation_size` of each table (heap, indexes, TOAST) after
  VACUUM FULL (without it, deleted rows would still count until autovacuum reuses them).

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from supportgraph.config import EscalationRules, Settings, default_data_dir
from supportgraph.runtime.agent import SupportAgent

MESSAGES = [
    "Hi",
    "Where is my order SG-10002?",
    "anna.schmidt@example.com",
    "How long does shipping take?",
    "thanks",
    "Do you ship to Canada?",
    "What is your return policy?",
    "Where is my order SG-10003?",
    "ok thank you",
    "Hello again",
    "How much is express shipping?",
    "bye",
]
THREAD = "storage-bench"
CHECKPOINT_TABLES = {
    "sqlite": ("checkpoints", "writes"),
    "postgres": ("checkpoints", "checkpoint_blobs", "checkpoint_writes"),
}
TRANSCRIPT_PREFIX = "sg_"
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def fresh_postgres(server: str) -> Iterator[str]:
    """A new database on the server for this run, dropped afterwards."""
    import psycopg

    name = f"sgbench_storage_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rpartition("/")[0] + "/" + name
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_sizes(path: Path) -> tuple[dict[str, int], int]:
    """Bytes of the pages each table uses (its indexes counted with it) and the file's size
    after VACUUM; the number of checkpoints."""
    with sqlite3.connect(path) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM checkpoints").fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master"))
        sizes: dict[str, int] = {}
        for name, used in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            sizes[table] = sizes.get(table, 0) + int(used)
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sizes["(file after VACUUM)"] = path.stat().st_size
    return sizes, int(count)


def postgres_sizes(url: str) -> tuple[dict[str, int], int]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        conn.execute("VACUUM FULL")
        sizes = {t: one(conn, "SELECT pg_total_relation_size(%s::regclass)", t) for t in tables}
        return sizes, one(conn, "SELECT COUNT(*) FROM checkpoints")


def one(conn: Any, sql: str, *params: Any) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0])


def summary(engine: str, sizes: dict[str, int], checkpoints: int) -> dict[str, Any]:
    checkpoint_bytes = sum(sizes.get(t, 0) for t in CHECKPOINT_TABLES[engine])
    transcript = sum(v for t, v in sizes.items() if t.startswith(TRANSCRIPT_PREFIX))
    total = sum(v for t, v in sizes.items() if not t.startswith("("))
    return {
        "checkpoints": checkpoints,
        "checkpoint_bytes": checkpoint_bytes,
        "transcript_bytes": transcript,
        "total_bytes": total,
        "file_bytes": sizes.get("(file after VACUUM)"),
    }


BOUNDED_TURNS = 20  # SUPPORTGRAPH_KEEP_TURN_CHECKPOINTS for the third row


async def run_engine(engine: str, turns: int, warm: Path, url: str | None) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix=f"sg-storage-{engine}-") as tmp:
        data_dir = Path(tmp)
        for name in ("models", "kb"):
            if (warm / name).is_dir():
                (data_dir / name).symlink_to(warm / name, target_is_directory=True)
        settings = Settings(
            data_dir=data_dir,
            database_url=url,
            store_backend="sqlite",
            escalation=EscalationRules(repeat_limit=10**9),
        )
        async with SupportAgent.open(settings) as agent:
            await agent.send(THREAD, "Hi")  # warm-up: models load on the first turn
            await agent.delete_thread(THREAD)
            started = time.perf_counter()
            for turn in range(turns):
                record = await agent.send(THREAD, MESSAGES[turn % len(MESSAGES)])
                if record.error is not None or record.awaiting == "human_agent":
                    raise SystemExit(f"turn {turn + 1} did not get a bot answer: {record}")
            seconds = time.perf_counter() - started
            before = measure(engine, settings, url)
            report = await agent.prune()
            after = measure(engine, settings, url)
            timeline = await agent.timeline(THREAD)
            assert timeline is not None and len(timeline["turns"]) == turns
        # Bounded: turn checkpoints of the newest BOUNDED_TURNS turns only.
        bounded = settings.model_copy(update={"keep_turn_checkpoints": BOUNDED_TURNS})
        async with SupportAgent.open(bounded) as agent:
            bounded_report = await agent.prune()
            bounded_after = measure(engine, settings, url)
            timeline = await agent.timeline(THREAD)
            assert timeline is not None and len(timeline["turns"]) == turns
    rows = [
        {"engine": engine, "stage": "before prune", **summary(engine, *before)},
        {"engine": engine, "stage": "after prune (defaults)", **summary(engine, *after)},
        {
            "engine": engine,
            "stage": f"after prune, turn checkpoints of the newest {BOUNDED_TURNS} turns",
            **summary(engine, *bounded_after),
        },
    ]
    rows[0]["ms_per_turn"] = seconds * 1000 / turns
    rows[1]["deleted"] = report.checkpoints_deleted
    rows[2]["deleted"] = bounded_report.checkpoints_deleted
    return rows


def measure(engine: str, settings: Settings, url: str | None) -> tuple[dict[str, int], int]:
    if engine == "sqlite":
        return sqlite_sizes(settings.checkpoint_path())
    assert url is not None
    return postgres_sizes(url)


def kib(value: int | None) -> str:
    return "" if value is None else f"{value / 1024:,.0f}"


def table(rows: list[dict[str, Any]], turns: int) -> str:
    lines = [
        f"Storage of one {turns:,}-turn conversation (KiB; per turn in bytes)",
        "",
        "| engine | stage | checkpoints | checkpoint KiB | transcript KiB | total KiB "
        "| total B/turn | SQLite file after VACUUM KiB | ms/turn |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['stage']} | {r['checkpoints']} | {kib(r['checkpoint_bytes'])} "
            f"| {kib(r['transcript_bytes'])} | {kib(r['total_bytes'])} "
            f"| {r['total_bytes'] / turns:,.0f} | {kib(r['file_bytes'])} "
            f"| {r['ms_per_turn']:.0f} |"
            if "ms_per_turn" in r
            else f"| {r['engine']} | {r['stage']} ({r['deleted']} deleted) | {r['checkpoints']} "
            f"| {kib(r['checkpoint_bytes'])} | {kib(r['transcript_bytes'])} "
            f"| {kib(r['total_bytes'])} | {r['total_bytes'] / turns:,.0f} "
            f"| {kib(r['file_bytes'])} | |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--warm-dir", type=Path, default=default_data_dir())
    parser.add_argument(
        "--postgres", default=os.environ.get("SUPPORTGRAPH_BENCH_POSTGRES", POSTGRES_SERVER)
    )
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for engine in args.engines.split(","):
        if engine == "postgres":
            with fresh_postgres(args.postgres) as url:
                rows += await run_engine(engine, args.turns, args.warm_dir, url)
        else:
            rows += await run_engine(engine, args.turns, args.warm_dir, None)
    print(table(rows, args.turns))


if __name__ == "__main__":
    asyncio.run(main())
