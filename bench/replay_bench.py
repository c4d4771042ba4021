"""Rerun time per turn against a normal turn (replay debugging), for a 20- and a 100-turn
thread; the fixed cost (store copy, sandbox agent) is shown apart.

python bench/replay_bench.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from timeline_bench import SCRIPT  # bench/ is on sys.path when a script runs

from supportgraph.config import EscalationRules, Settings
from supportgraph.runtime.agent import SupportAgent


async def measure(turns: int) -> tuple[float, float, float, bool]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), escalation=EscalationRules(repeat_limit=10_000))
        async with SupportAgent.open(settings) as agent:
            agent.warm()
            await agent.send("warm-up", "hello")
            normal = [
                (await agent.send("t", SCRIPT[i % len(SCRIPT)])).latency_ms for i in range(turns)
            ]
            await agent.send("one", SCRIPT[0])
            start = time.perf_counter()
            await agent.rerun("one")  # one turn: mostly the fixed cost
            fixed = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            report = await agent.rerun("t")
            total = (time.perf_counter() - start) * 1000
    per_turn = (total - fixed) / max(turns - 1, 1)
    return statistics.median(normal), per_turn, fixed, report.diverged


def main() -> None:
    print(
        "\n| thread | normal turn p50 ms | rerun per turn ms | rerun fixed cost ms | diverged |"
        "\n|---|---|---|---|---|"
    )
    for turns in (20, 100):
        normal, per_turn, fixed, diverged = asyncio.run(measure(turns))
        print(f"| {turns} turns | {normal:.1f} | {per_turn:.1f} | {fixed:.0f} | {diverged} |")


if __name__ == "__main__":
    main()
