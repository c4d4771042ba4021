"""Load on `supportgraph serve`: N concurrent customers, 6 turns each, over real HTTP.

    python bench/server_load.py [--customers 100 500 1000] [--deadline 180]

Reports throughput, latency percentiles, errors and lost turns (a message the server
acknowledged that is missing from the thread's history afterwards: must be 0); the same
conversations through SupportAgent in-process for the HTTP overhead ratio; SSE time to
first event.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _stats import pct  # bench/ is on sys.path when a script runs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.server_helpers import CLIENT, auth, running_server

CONVERSATION = [
    "Hi there",
    "Where is my order?",
    "SG-10002",
    "anna.schmidt@example.com",
    "How much does express shipping cost?",
    "thanks, bye",
]


async def http_run(url: str, customers: int, deadline: float) -> dict[str, float]:
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    acknowledged: dict[str, list[str]] = {}
    stop_at = time.perf_counter() + deadline
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def customer(i: int) -> None:
            nonlocal errors
            try:
                r = await client.post("/v1/threads", json={}, headers=auth(CLIENT))
            except httpx.HTTPError as exc:
                errors += 1
                kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
                return
            if r.status_code != 201:
                errors += 1
                kinds[str(r.status_code)] = kinds.get(str(r.status_code), 0) + 1
                return
            thread = r.json()["thread_id"]
            acknowledged[thread] = []
            for text in CONVERSATION:
                if time.perf_counter() > stop_at:
                    return
                start = time.perf_counter()
                try:
                    r = await client.post(
                        f"/v1/threads/{thread}/messages", json={"text": text}, headers=auth(CLIENT)
                    )
                except httpx.HTTPError as exc:
                    errors += 1
                    kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
                    continue
                if r.status_code == 200:
                    latencies.append((time.perf_counter() - start) * 1000)
                    acknowledged[thread].append(text)
                else:
                    errors += 1
                    kinds[str(r.status_code)] = kinds.get(str(r.status_code), 0) + 1

        start = time.perf_counter()
        await asyncio.gather(*(customer(i) for i in range(customers)))
        elapsed = time.perf_counter() - start
        lost = 0
        for thread, texts in acknowledged.items():
            r = await client.get(f"/v1/threads/{thread}/turns", headers=auth(CLIENT))
            stored = [t["customer_text"] for t in r.json()] if r.status_code == 200 else []
            lost += sum(1 for t in texts if t not in stored)
    return {
        "kinds": ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())) or "-",
        "turns": len(latencies),
        "seconds": elapsed,
        "errors": errors,
        "lost": lost,
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p95": pct(latencies, 95),
        "p99": pct(latencies, 99),
    }


async def in_process(data_dir: Path, customers: int) -> dict[str, float]:
    from supportgraph.config import Settings
    from supportgraph.runtime.agent import SupportAgent

    latencies: list[float] = []
    async with SupportAgent.open(Settings(data_dir=data_dir)) as agent:
        agent.warm()

        async def customer(i: int) -> None:
            for text in CONVERSATION:
                start = time.perf_counter()
                await agent.send(f"inproc-{i}", text)
                latencies.append((time.perf_counter() - start) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(customer(i) for i in range(customers)))
        elapsed = time.perf_counter() - start
    return {"turns": len(latencies), "seconds": elapsed, "p50": statistics.median(latencies)}


async def sse_first_event(url: str, samples: int = 20) -> list[float]:
    times = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for _ in range(samples):
            thread = (await client.post("/v1/threads", json={}, headers=auth(CLIENT))).json()[
                "thread_id"
            ]
            start = time.perf_counter()
            async with client.stream(
                "POST",
                f"/v1/threads/{thread}/messages",
                json={"text": "How much is shipping?"},
                headers={**auth(CLIENT), "Accept": "text/event-stream"},
            ) as r:
                first = None
                async for line in r.aiter_lines():  # read to the end: the turn completes
                    if first is None and line.startswith("event:"):
                        first = (time.perf_counter() - start) * 1000
                if first is not None:
                    times.append(first)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds per load level")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with running_server(root / "server", workers=args.workers) as url:
            first = asyncio.run(sse_first_event(url))
            for n in args.customers:
                rows.append((n, asyncio.run(http_run(url, n, args.deadline))))
        for n, row in rows:
            row["inproc"] = asyncio.run(in_process(root / f"inproc-{n}", n))["seconds"]

    print(
        "\nsupportgraph serve (1 worker) under N concurrent customers x 6 turns, httpx on loopback\n"
    )
    print(
        "| customers | turns | turns/s | p50 ms | p95 ms | p99 ms | errors | lost turns | in-process turns/s | HTTP/in-process time |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, r in rows:
        inproc_rate = n * len(CONVERSATION) / r["inproc"]
        print(
            f"| {n} | {r['turns']} | {r['turns'] / r['seconds']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | "
            f"{r['p99']:.0f} | {r['errors']} ({r['kinds']}) | {r['lost']} | {inproc_rate:.1f} | "
            f"{r['seconds'] / r['inproc']:.2f}x |"
        )
    print(
        f"\nSSE time to first event: p50 {statistics.median(first):.1f} ms, p95 {pct(first, 95):.1f} ms "
        f"({len(first)} requests)"
    )


if __name__ == "__main__":
    main()
