"""Timeline build time for a 20-turn and a 500-turn thread (replay debugging).

python bench/timeline_bench.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from _stats import pct  # bench/ is on sys.path when a script runs

from supportgraph.config import EscalationRules, Settings
from supportgraph.replay.timeline import build_timeline
from supportgraph.runtime.agent import SupportAgent

SCRIPT = [
    "Where is my order?",
    "SG-10002",
    "anna.schmidt@example.com",
    "How much is shipping?",
    "Do you have the Trail Runner Sneakers in size 42 white?",
    "thanks",
]


async def measure(turns: int, repeats: int = 5) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), escalation=EscalationRules(repeat_limit=10_000))
        async with SupportAgent.open(settings) as agent:
            for i in range(turns):
                await agent.send("t", SCRIPT[i % len(SCRIPT)])
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                timeline = await build_timeline(agent, "t")
                times.append((time.perf_counter() - start) * 1000)
            assert timeline is not None and len(timeline["turns"]) == turns
            nodes = sum(len(t["nodes"]) for t in timeline["turns"])
    return statistics.median(times), pct(times, 95), nodes


def main() -> None:
    print("\n| thread | timeline build p50 ms | p95 ms | node steps |\n|---|---|---|---|")
    for turns in (20, 500):
        p50, p95, nodes = asyncio.run(measure(turns))
        print(f"| {turns} turns | {p50:.1f} | {p95:.1f} | {nodes} |")


if __name__ == "__main__":
    main()
