"""Turn latency of this checkout against another one (e.g. a worktree of an older commit).

    git worktree add /tmp/before <rev>
    python bench/turn_ab.py /tmp/before [--rounds 6] [--turns 600]

This machine's speed drifts by 20-30% from one minute to the next, so two checkouts timed
one after the other measure the drift, not the change. Here both run at the same time, each
pinned to its own core (swapped every round), the same scripted conversations in-process
with real SQLite; the table shows each round's p50 and the ratio, and the median ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = ["Hi there", "Where is my order?", "SG-10002", "anna.schmidt@example.com"]
HERE = Path(__file__).resolve().parents[1]


async def worker(turns: int) -> None:
    """Runs inside a checkout (cwd): prints the p50 turn latency in ms."""
    sys.path.insert(0, os.getcwd())
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    import supportgraph
    from supportgraph import Settings, SupportAgent  # the public names, in every version

    # Each worker must time its own checkout's package (not the installed one).
    assert Path(supportgraph.__file__).is_relative_to(Path.cwd()), supportgraph.__file__

    async with SupportAgent.open(Settings(data_dir=Path(tempfile.mkdtemp()))) as agent:
        for n in range(40):  # load the models, warm the caches
            await agent.send(f"warm-{n // 4}", SCRIPT[n % 4])
        times = []
        for n in range(turns):
            started = time.perf_counter()
            await agent.send(f"t-{n // 4}", SCRIPT[n % 4])
            times.append((time.perf_counter() - started) * 1000)
    print(statistics.median(times))


def pinned(checkout: Path, core: int, turns: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["taskset", "-c", str(core), sys.executable, __file__, "--worker", "--turns", str(turns)],
        cwd=checkout,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("other", nargs="?", type=Path)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker(args.turns))
        return
    if args.other is None:
        parser.error("give the other checkout's directory")
    print(f"| round | {args.other} p50 ms | this checkout p50 ms | ratio |")
    print("|---|---|---|---|")
    ratios = []
    for n in range(args.rounds):
        other = pinned(args.other, n % 2, args.turns)
        this = pinned(HERE, 1 - n % 2, args.turns)
        before, after = float(other.communicate()[0]), float(this.communicate()[0])
        ratios.append(after / before)
        print(f"| {n + 1} | {before:.2f} | {after:.2f} | {after / before:.3f} |")
    print(f"| median | | | {statistics.median(ratios):.3f} |")


if __name__ == "__main__":
    main()
