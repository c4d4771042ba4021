"""Per-turn latency and checkpoint growth of a long conversation (issue: foundation).

200 turns of a scripted conversation through SupportAgent with the SQLite saver, next to a
bare 3-node LangGraph graph on the same saver (the floor); checkpoint bytes per turn early
and late; a 1,000-turn conversation's size on disk; cold start of `supportgraph send`.

    python bench/turn_latency.py [--turns 200] [--long 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

from _stats import pct  # bench/ is on sys.path when a script runs

SCRIPT = [
    "Hi there",
    "Where is my order?",
    "SG-10002",
    "anna.schmidt@example.com",
    "How much does express shipping cost?",
    "Do you have the Trail Runner Sneakers in size 42 black?",
    "and in white?",
    "What is your return policy?",
    "¿Cuánto tarda el envío a España?",
    "Comment réinitialiser mon mot de passe ?",
    "Welche Zahlungsmethoden akzeptieren Sie?",
    "Is there a student discount?",
    "Where is order SG-10003?",
    "What are your store opening hours?",
    "Tengo un problema con el pago",
    "thanks, that's all",
]


def db_bytes(path: Path) -> int:
    """Checkpoint database size after folding the WAL in: what the conversation costs on disk."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.close()
    return int(page_size * pages)


async def run_agent(
    data_dir: Path, turns: int, sample_at: set[int]
) -> tuple[list[float], dict[int, int]]:
    from supportgraph.config import EscalationRules, Settings
    from supportgraph.runtime.agent import SupportAgent

    # The scripted questions repeat over 200 turns; the repetition rule would hand the thread
    # to a human after the 4th repeat and every later turn would only be queued.
    settings = Settings(data_dir=data_dir, escalation=EscalationRules(repeat_limit=10_000))
    latencies: list[float] = []
    sizes: dict[int, int] = {}
    async with SupportAgent.open(settings) as agent:
        agent.warm()
        await agent.send("warmup", "hello")  # exclude one-time model loading
        for i in range(turns):
            start = time.perf_counter()
            await agent.send("bench", SCRIPT[i % len(SCRIPT)])
            latencies.append((time.perf_counter() - start) * 1000)
            if i + 1 in sample_at:
                sizes[i + 1] = db_bytes(settings.checkpoint_path())
    return latencies, sizes


class BareState(TypedDict, total=False):
    text: str
    a: str
    b: str
    c: str


async def run_bare(path: Path, turns: int) -> list[float]:
    from langgraph.graph import END, START, StateGraph

    from supportgraph.runtime.checkpointer import open_sqlite

    def node(name: str) -> Any:
        async def run(state: BareState) -> dict[str, str]:
            return {name: state.get("text", "")}

        return run

    graph = StateGraph(BareState)
    for name in ("a", "b", "c"):
        graph.add_node(name, node(name))
    graph.add_edge(START, "a")
    graph.add_edge("a", "b")
    graph.add_edge("b", "c")
    graph.add_edge("c", END)
    saver, conn = await open_sqlite(path)
    compiled = graph.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "bare"}}
    latencies = []
    try:
        for i in range(turns):
            start = time.perf_counter()
            await compiled.ainvoke({"text": SCRIPT[i % len(SCRIPT)]}, config)
            latencies.append((time.perf_counter() - start) * 1000)
    finally:
        await conn.close()
    return latencies


def cold_start(data_dir: Path) -> float:
    env = {**os.environ, "SUPPORTGRAPH_DATA_DIR": str(data_dir)}
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "supportgraph.cli",
            "send",
            "--thread",
            "cold",
            "Where is my order?",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--long", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sample = {10, 20, 190, 200, args.turns}
        full, sizes = asyncio.run(run_agent(root / "agent", args.turns, sample))
        bare = asyncio.run(run_bare(root / "bare.db", args.turns))
        cold_first = cold_start(root / "agent")  # models cached by the run above
        cold_fresh = cold_start(root / "fresh")  # first ever start: trains and caches the model
        _, long_sizes = asyncio.run(run_agent(root / "long", args.long, {args.long}))

    def row(name: str, values: list[float]) -> str:
        return (
            f"| {name} | {statistics.median(values):.1f} | {pct(values, 95):.1f} | "
            f"{pct(values, 99):.1f} |"
        )

    print(f"\nPer-turn latency, {args.turns} turns, AsyncSqliteSaver (ms)\n")
    print("| graph | p50 | p95 | p99 |\n|---|---|---|---|")
    print(row("supportgraph full turn", full))
    print(row("bare 3-node graph (floor)", bare))
    early, late = statistics.median(full[:10]), statistics.median(full[189:200])
    per_turn_20 = (sizes[20] - sizes[10]) / 10
    per_turn_200 = (sizes[200] - sizes[190]) / 10
    print("\n| measure | value | goal |\n|---|---|---|")
    print(
        f"| full p50 / bare p50 | {statistics.median(full) / statistics.median(bare):.2f}x | <= 3x |"
    )
    print(f"| p50 turns 190-200 / p50 turns 1-10 | {late / early:.2f}x | <= 1.3x |")
    print(f"| checkpoint DB bytes per turn at turn 20 | {per_turn_20:,.0f} | |")
    print(
        f"| checkpoint DB bytes per turn at turn 200 | {per_turn_200:,.0f} | within 1.3x of turn 20 "
        f"({per_turn_200 / per_turn_20:.2f}x) |"
    )
    print(
        f"| {args.long}-turn conversation on disk | {long_sizes[args.long] / 1e6:.2f} MB | < 10 MB |"
    )
    print(
        f"| cold start to first reply, `supportgraph send` (models cached) | {cold_first:.2f} s | |"
    )
    print(
        f"| cold start, first ever run (trains + caches intent model, builds KB) | {cold_fresh:.2f} s | |"
    )


if __name__ == "__main__":
    main()
