"""supportgraph at scale: throughput, latency, errors, CPU and memory of `supportgraph serve`
on embedded SQLite (1 worker) and on PostgreSQL (1, 2 and 4 workers), under C concurrent
conversations x 4 turns, over real HTTP on loopback.

    python bench/scale.py --quick --configs sqlite-1   # smoke: C=200, 15 s (< 1 min)
    python bench/scale.py --quick                 # the same on all four configurations
    python bench/scale.py                         # C=1,000 and 5,000 on every configuration
    python bench/scale.py --drill                 # kill -9 drill: 2 servers on one database
    python bench/scale.py --langgraph-dev         # our server vs `langgraph dev`, same graph
    python bench/scale.py --scale --drill --langgraph-dev   # everything

Each configuration gets a fresh database (PostgreSQL: CREATE DATABASE, dropped after) and a
fresh data dir whose fitted models and KB index link to one warmed dir (bench/out/warm by
default), so no measured run fits a model. Every rate limit is off: only admission control
(SUPPORTGRAPH_MAX_TURNS_IN_FLIGHT per worker, 503 + Retry-After) refuses turns; clients retry
those ("shed", not lost). Each conversation's thread is opened before the measured run (all
C customers opening a chat in the same second is not the load being measured); the run is
the turns, until every conversation is done or the deadline cuts the rest. Prints markdown
tables; writes JSON to bench/out/.

The machine has 2 cores: the client processes, PostgreSQL and the server workers share them,
and the tables say how much each used (and how much went to other processes).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _stats import pct  # bench/ is on sys.path when a script runs
from scale_client import LoadResult, drive, plans, with_threads
from scale_conversations import conversations
from scale_procs import CpuWindow, tree_rss_bytes, wait_until_idle
from scale_server import ConnectionPeak, Server, database, warm_models
from scale_verify import Verified, check

OUT = Path(__file__).resolve().parent / "out"
# name -> (database kind, workers)
CONFIGURATIONS = {
    "sqlite-1": ("sqlite", 1),
    "pg-1": ("postgres", 1),
    "pg-2": ("postgres", 2),
    "pg-4": ("postgres", 4),
}
CORES = os.cpu_count() or 1
WARMUP_CONVERSATIONS = 3  # per worker, before anything is measured (imports, pools, caches)
SETTLE_SECONDS = 3.0  # before reading RSS: let the allocator and pending tasks settle


@contextmanager
def configuration(name: str, root: Path, warm: Path) -> Iterator[Server]:
    """A running server of the configuration on a fresh database and data dir, warmed up."""
    kind, workers = CONFIGURATIONS[name]
    with database(kind) as url:
        server = Server(root / name, warm, workers=workers, database_url=url)
        try:
            ready = server.start()
            began = time.monotonic()
            wait_until_idle([server.pid])  # every worker has loaded its models
            warm_up(server.url, workers)
            warmed = time.monotonic() - began
            print(f"  {name}: ready in {ready:.0f} s, warmed up in {warmed:.0f} s", flush=True)
            yield server
        finally:
            server.stop()


def warm_up(url: str, workers: int) -> None:
    jobs = plans(
        (url,),
        conversations(WARMUP_CONVERSATIONS * workers),
        processes=1,
        connections=WARMUP_CONVERSATIONS * workers,
        duration=60,
        request_timeout=30,
        run_id=f"warmup-{uuid.uuid4().hex[:8]}",
    )
    warmed = drive(with_threads(jobs))
    if warmed.outcomes["ok"] == 0:
        raise RuntimeError(f"warm-up: no turn answered ({dict(warmed.refused)})")


def measure(server: Server, count: int, args: argparse.Namespace) -> dict[str, Any]:
    """One load level on a running server: C conversations x 4 turns until done or deadline."""
    roots = [server.pid]
    wait_until_idle(roots)
    rss_before = tree_rss_bytes(roots)
    jobs = plans(
        (server.url,),
        conversations(count),
        processes=args.clients,
        connections=args.connections,
        duration=args.deadline,
        request_timeout=args.request_timeout,
        run_id=f"c{count}-{uuid.uuid4().hex[:8]}",
        http_client=args.http_client,
    )
    began = time.monotonic()
    jobs = with_threads(jobs)  # not measured: customers do not all open a chat at one instant
    opened = time.monotonic() - began
    wait_until_idle(roots)
    window = CpuWindow(roots)
    window.start()
    with ConnectionPeak(server.database_url) as connections:
        load = drive(jobs)
    drained = wait_until_idle(roots)  # turns admitted before the deadline finish
    window.stop()
    time.sleep(SETTLE_SECONDS)
    rss_after = tree_rss_bytes(roots)
    verified = check(load, server.url, args.clients)
    found = summarize(count, load, verified, window, rss_after - rss_before, drained)
    found["threads_opened_per_s"] = round(load.threads / opened, 1)  # spawning included
    found["postgres_connections_peak"] = connections.peak
    found["postgres_max_connections"] = connections.limit
    print(
        f"  C={count}: {found['turns_ok']} turns in {found['wall_s']:.0f} s "
        f"({found['turns_per_s']} /s), lost {found['lost']}",
        flush=True,
    )
    return found


def summarize(
    count: int,
    load: LoadResult,
    verified: Verified,
    window: CpuWindow,
    rss_growth: int,
    drained: float,
) -> dict[str, Any]:
    wall = load.wall_seconds
    ok = load.outcomes["ok"]
    machine_seconds = window.machine_total or 1e-9
    return {
        "conversations": count,
        "turns_planned": count * 4,
        "turns_ok": ok,
        "turns_cut": load.outcomes["cut"],
        "turns_failed": load.outcomes["failed"],
        "wall_s": round(wall, 2),
        "turns_per_s": round(ok / wall, 2),
        "admitted_ms": {p: round(pct(load.admitted_ms, p), 1) for p in (50, 95, 99)},
        "turn_with_retries_ms": {p: round(pct(load.turn_ms, p), 1) for p in (50, 95, 99)},
        "refused": dict(load.refused),  # failed attempts by kind (each was retried)
        "lost": verified.lost,
        "lost_examples": verified.lost_examples,
        "duplicated_turns": verified.duplicated,
        "unreadable_threads": verified.unreadable,
        "committed_turns": verified.committed,
        "server_cpu_s": round(window.server, 2),
        "server_cpu_ms_per_turn": round(1000 * window.server / max(verified.committed, 1), 1),
        "postgres_cpu_s": round(window.postgres, 2),
        "client_cpu_s": round(load.cpu_seconds, 2),
        "client_cpu_share_of_one_core": round(load.cpu_seconds / wall, 3),
        "client_loop_lag_ms": {p: round(pct(load.loop_lag_ms, p), 1) for p in (50, 99)},
        "machine_busy_share": round(window.machine_busy / machine_seconds, 3),
        "other_cpu_s": round(
            window.machine_busy - window.server - window.postgres - load.cpu_seconds, 2
        ),
        "cpu_window_s": round(window.machine_total / CORES, 1),
        "drain_s": round(drained, 1),
        "rss_growth_mb": round(rss_growth / 2**20, 1),
        "rss_kb_per_conversation": round(rss_growth / 1024 / max(load.threads, 1), 2),
        "threads": load.threads,
    }


def run_scale(root: Path, warm: Path, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in args.configs:
        with configuration(name, root, warm) as server:
            started = time.monotonic()
            levels = [measure(server, count, args) for count in args.conversations]
            results[name] = {"levels": levels, "seconds": round(time.monotonic() - started)}
            print(f"  {name}: done in {results[name]['seconds']} s", flush=True)
    return results


# -- reports ------------------------------------------------------------------------------


def print_scale(results: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"\n### supportgraph serve at scale: C conversations x 4 turns, deadline "
        f"{args.deadline:.0f} s, {args.clients} client processes ({args.http_client}), "
        f"{args.connections} connections, max {args.max_turns_in_flight} turns in flight per "
        "worker\n"
    )
    print(
        "| config | C | turns ok | cut | failed | turns/s | p50 ms | p95 ms | p99 ms "
        "| p95 with retries | refused attempts | lost | dup | server CPU ms/turn "
        "| RSS KB/conv | drain s |"
    )
    print("|" + "---|" * 16)
    for name, found in results.items():
        for r in found["levels"]:
            refused = ", ".join(f"{k}: {v}" for k, v in sorted(r["refused"].items())) or "-"
            print(
                f"| {name} | {r['conversations']} | {r['turns_ok']} | {r['turns_cut']} "
                f"| {r['turns_failed']} | {r['turns_per_s']:.1f} | {r['admitted_ms'][50]:.0f} "
                f"| {r['admitted_ms'][95]:.0f} | {r['admitted_ms'][99]:.0f} "
                f"| {r['turn_with_retries_ms'][95]:.0f} | {refused} | {r['lost']} "
                f"| {r['duplicated_turns']} | {r['server_cpu_ms_per_turn']:.0f} "
                f"| {r['rss_kb_per_conversation']:.1f} | {r['drain_s']:.0f} |"
            )
    print(
        "\np50/p95/p99: requests answered 2xx, from sending to the answer; with retries: a "
        "turn from its first try (503s and their Retry-After waits included). Server CPU per "
        "turn: everything the server processes used in the window (turns, 503s), over the "
        "turns stored. RSS per conversation: the server's growth over the level, after it.\n"
    )
    print("Where the CPU went (seconds over the measured window, all cores):\n")
    print(
        "| config | C | window s | server | PostgreSQL* | clients | client loop lag p50/p99 ms "
        "| other | machine busy | PG connections peak / max | threads opened /s (setup) |"
    )
    print("|" + "---|" * 11)
    for name, found in results.items():
        for r in found["levels"]:
            print(
                f"| {name} | {r['conversations']} | {r['cpu_window_s']:.0f} "
                f"| {r['server_cpu_s']:.1f} | {r['postgres_cpu_s']:.1f} "
                f"| {r['client_cpu_s']:.1f} ({100 * r['client_cpu_share_of_one_core']:.0f}% "
                f"of a core) | {r['client_loop_lag_ms'][50]:.0f} / {r['client_loop_lag_ms'][99]:.0f} "
                f"| {r['other_cpu_s']:.1f} | {100 * r['machine_busy_share']:.0f}% "
                f"| {r['postgres_connections_peak']} / {r['postgres_max_connections']} "
                f"| {r['threads_opened_per_s']:.0f} |"
            )
    print(
        "\n*PostgreSQL: every postgres process on the machine (others' databases too). "
        "other: processes outside the bench (e.g. someone's test run; also the client "
        "processes' start-up)."
    )
    base = results.get("pg-1")
    if base:
        print("\nScaling on PostgreSQL (turns/s over 1 worker):\n")
        print("| C | " + " | ".join(n for n in results if n.startswith("pg-")) + " |")
        print("|---|" + "---|" * sum(1 for n in results if n.startswith("pg-")))
        for i, level in enumerate(base["levels"]):
            one = level["turns_per_s"] or 1e-9
            cells = [
                f"{found['levels'][i]['turns_per_s'] / one:.2f}x"
                for n, found in results.items()
                if n.startswith("pg-")
            ]
            print(f"| {level['conversations']} | " + " | ".join(cells) + " |")


# -- main ----------------------------------------------------------------------------------


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: C=200, deadline 15 s")
    parser.add_argument("--scale", action="store_true", help="the configurations (default)")
    parser.add_argument("--drill", action="store_true", help="kill -9 drill")
    parser.add_argument("--langgraph-dev", action="store_true", help="vs `langgraph dev`")
    parser.add_argument(
        "--conversations", type=int, nargs="+", help="load levels (default 1000 5000)"
    )
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGURATIONS), default=None)
    parser.add_argument("--deadline", type=float, default=45.0, help="seconds per load level")
    parser.add_argument("--clients", type=int, default=3, help="client processes")
    parser.add_argument("--connections", type=int, default=384, help="over all clients")
    parser.add_argument("--request-timeout", type=float, default=60.0)
    parser.add_argument(
        "--http-client", choices=["aiohttp", "httpx"], default="aiohttp", help="see scale_http.py"
    )
    parser.add_argument(
        "--max-turns-in-flight", type=int, default=16, help="per worker (the shipped default)"
    )
    parser.add_argument("--drill-conversations", type=int, default=500)
    parser.add_argument("--drill-deadline", type=float, default=420.0, help="seconds")
    parser.add_argument("--repeats", type=int, default=20, help="langgraph dev comparison")
    parser.add_argument("--warm", type=Path, default=OUT / "warm", help="kept fitted models")
    args = parser.parse_args()
    if args.quick:
        args.conversations = args.conversations or [200]
        args.deadline = min(args.deadline, 15.0)
        args.drill_conversations = min(args.drill_conversations, 100)
        args.drill_deadline = min(args.drill_deadline, 150.0)
        args.repeats = min(args.repeats, 5)
    args.conversations = args.conversations or [1000, 5000]
    args.configs = args.configs or list(CONFIGURATIONS)
    if not (args.drill or args.langgraph_dev):
        args.scale = True
    return args


def main() -> None:
    args = parse()
    # Admission control's limit, read by every server this process starts.
    os.environ["SUPPORTGRAPH_MAX_TURNS_IN_FLIGHT"] = str(args.max_turns_in_flight)
    OUT.mkdir(exist_ok=True)
    report: dict[str, Any] = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "cores": CORES,
        "load_average_at_start": os.getloadavg(),  # others' work on the same cores
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sgscale-") as tmp:
        root = Path(tmp)
        print(f"warming models in {args.warm} ...", flush=True)
        report["warm_s"] = round(warm_models(args.warm), 1)
        if args.scale:
            report["scale"] = run_scale(root, args.warm, args)
            print_scale(report["scale"], args)
        if args.drill:
            from scale_drill import print_drill, run_drill

            report["drill"] = run_drill(root, args.warm, args)
            print_drill(report["drill"])
        if args.langgraph_dev:
            from scale_langgraph import compare, print_compare

            report["langgraph_dev"] = compare(root, args.warm, args.repeats)
            print_compare(report["langgraph_dev"])
    report["seconds"] = round(time.monotonic() - started)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = OUT / f"scale-{'quick-' if args.quick else ''}{stamp}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"\n{report['seconds']} s in all; JSON: {path}")
    broken = promises_broken(report)
    if broken:
        raise SystemExit("FAILED: " + "; ".join(broken))


def promises_broken(report: dict[str, Any]) -> list[str]:
    """What must be 0 and was not: acknowledged turns lost, messages stored twice, writes
    duplicated or confirmed but not applied."""
    broken = []
    for name, found in report.get("scale", {}).items():
        for level in found["levels"]:
            for key in ("lost", "duplicated_turns"):
                if level[key]:
                    broken.append(f"{name} C={level['conversations']}: {key} {level[key]}")
    drill = report.get("drill", {})
    for key in ("acknowledged_but_lost", "duplicated_turns", "duplicated_writes"):
        if drill.get(key):
            broken.append(f"drill: {key} {drill[key]}")
    for key in ("confirmed_not_written", "confirmed_not_cancelled"):
        if drill.get(key):
            broken.append(f"drill: {key} {drill[key]}")
    return broken


if __name__ == "__main__":
    main()
