"""The kill -9 drill: two `supportgraph serve` processes (separate ports) on one PostgreSQL
database, conversations spread over both, one server killed with SIGKILL three times during
the run (the servers in turn) and restarted each time. Clients retry a failed request on the
other server with the same client message id.

Afterwards: every message a server acknowledged (2xx) must be in its thread (lost: 0), no
message may have been stored twice, and each confirmed cancellation must be in the store's
`writes` log exactly once (the cancellation conversations each cancel their own pending order).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from scale_client import LoadResult, launch, merged, plans, with_threads
from scale_conversations import conversations, store_orders
from scale_processes import shared_counter
from scale_server import Server, database
from scale_verify import Verified, check

KILLS_AT = (0.2, 0.45, 0.7)  # kill when this share of the planned turns was answered


def run_drill(root: Path, warm: Path, args: argparse.Namespace) -> dict[str, Any]:
    count = args.drill_conversations
    cancels = min(len(store_orders()[1]), count)
    planned = conversations(count, cancellations=cancels)
    turns = sum(len(c.messages) for c in planned)
    with database("postgres") as url:
        assert url is not None
        servers = [Server(root / f"drill-{n}", warm, database_url=url) for n in "ab"]
        try:
            for server in servers:
                server.start()
            urls = tuple(s.url for s in servers)
            progress = shared_counter()
            jobs = plans(
                urls,
                planned,
                processes=args.clients,
                connections=args.connections,
                duration=args.drill_deadline,
                request_timeout=args.request_timeout,
                run_id=f"drill-{uuid.uuid4().hex[:8]}",
                failover=True,
                http_client=args.http_client,
            )
            clients, jobs = launch(with_threads(jobs), progress)
            kills = kill_during_run(servers, progress, turns, jobs[0].deadline)
            load = merged(clients.results())
            verified = check(load, urls[0], args.clients, every_thread=True)
            writes, cancelled = cancel_writes(url)
        finally:
            for server in servers:
                server.stop()
    return drill_report(count, cancels, turns, load, verified, writes, cancelled, kills)


def kill_during_run(
    servers: list[Server], progress: Any, turns: int, deadline: float
) -> list[dict[str, Any]]:
    """kill -9 a server (each in turn) as the answered turns pass each of KILLS_AT, restart
    it at once; when each kill happened and how long the restart took."""
    kills = []
    for n, share in enumerate(KILLS_AT):
        while progress.value < share * turns and time.time() < deadline:
            time.sleep(0.05)
        if time.time() >= deadline:
            break
        victim = servers[n % len(servers)]
        answered = progress.value
        victim.kill9()
        restart = victim.start()
        kills.append(
            {"server": victim.url, "after_turns": answered, "restart_s": round(restart, 1)}
        )
        print(f"  kill -9 {victim.url} after {answered} turns; back in {restart:.1f} s")
    return kills


def cancel_writes(url: str) -> tuple[dict[str, list[str]], set[str]]:
    """The `writes` log's cancellation keys by order, and the orders whose status is
    cancelled now (the demo store's pending orders start as pending)."""
    found: dict[str, list[str]] = {}
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT key, target FROM writes WHERE action = 'cancel_order'")
        for key, target in rows:
            found.setdefault(target, []).append(key)
        pending = [order for order, _ in store_orders()[1]]
        cancelled = conn.execute(
            "SELECT id FROM orders WHERE id = ANY(%s) AND status = 'cancelled'", (pending,)
        )
        return found, {order for (order,) in cancelled}


def drill_report(
    count: int,
    cancels: int,
    turns: int,
    load: LoadResult,
    verified: Verified,
    writes: dict[str, list[str]],
    cancelled: set[str],
    kills: list[dict[str, Any]],
) -> dict[str, Any]:
    confirmed = load.cancellations
    return {
        "conversations": count,
        "turns_planned": turns,
        "turns_ok": load.outcomes["ok"],
        "turns_cut": load.outcomes["cut"],
        "turns_failed": load.outcomes["failed"],
        "kills": kills,
        "failovers": load.failovers,
        "refused": dict(Counter(load.refused)),
        "acknowledged_but_lost": verified.lost,
        "lost_examples": verified.lost_examples,
        "duplicated_turns": verified.duplicated,
        "unreadable_threads": verified.unreadable,
        "cancellation_conversations": cancels,
        "confirmed_cancellations": len(confirmed),
        "cancel_writes": sum(len(keys) for keys in writes.values()),
        # an order cancelled by more than one write, or twice under one thread's turns
        "duplicated_writes": sum(len(keys) - 1 for keys in writes.values()),
        # confirmed to the customer but not in the store's log or not cancelled: a lost write
        "confirmed_not_written": sorted(set(confirmed) - set(writes)),
        "confirmed_not_cancelled": sorted(set(confirmed) - cancelled),
        # applied but never confirmed to a client (its conversation was cut): not an error
        "written_not_confirmed": sorted(set(writes) - set(confirmed)),
        "write_keys_of_other_threads": sorted(
            key
            for order, keys in writes.items()
            for key in keys
            if order in confirmed and not key.startswith(confirmed[order] + ":")
        ),
    }


def print_drill(report: dict[str, Any]) -> None:
    r = report
    print(
        f"\n### kill -9 drill: 2 servers on one PostgreSQL database, {r['conversations']} "
        f"conversations, {len(r['kills'])} kills\n"
    )
    print("| what | value |")
    print("|---|---|")
    rows = [
        ("turns answered / planned", f"{r['turns_ok']} / {r['turns_planned']}"),
        ("turns cut at deadline / failed", f"{r['turns_cut']} / {r['turns_failed']}"),
        (
            "kills (after turns; restart s)",
            "; ".join(f"{k['after_turns']} ({k['restart_s']} s)" for k in r["kills"]) or "-",
        ),
        ("requests retried on the other server", r["failovers"]),
        (
            "refused attempts",
            ", ".join(f"{k}: {v}" for k, v in sorted(r["refused"].items())) or "-",
        ),
        ("**acknowledged but lost**", r["acknowledged_but_lost"]),
        ("messages stored twice", r["duplicated_turns"]),
        (
            "cancellations confirmed / conversations",
            (f"{r['confirmed_cancellations']} / {r['cancellation_conversations']}"),
        ),
        ("cancel_order rows in `writes`", r["cancel_writes"]),
        ("**duplicated writes**", r["duplicated_writes"]),
        (
            "confirmed but not in `writes` / order not cancelled",
            (f"{len(r['confirmed_not_written'])} / {len(r['confirmed_not_cancelled'])}"),
        ),
        ("written, never confirmed (conversation cut)", len(r["written_not_confirmed"])),
        ("write keys of another thread", len(r["write_keys_of_other_threads"])),
    ]
    for what, value in rows:
        print(f"| {what} | {value} |")
