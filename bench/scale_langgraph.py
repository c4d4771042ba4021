"""Our server next to LangGraph's own (`langgraph dev`, langgraph-cli[inmem]) serving the same
graph: one 4-turn conversation, sequentially, N times; turn latency p50/p95 on both.

Ours is measured twice: through its /v1 messages API and through the LangGraph API it also
speaks (langgraph-sdk `runs.wait`, the same client code as against `langgraph dev`). Each
server first answers one unmeasured conversation (its Deps are built on the first run).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from _stats import pct
from langgraph_sdk import get_client
from scale_client import CLIENT_KEY, HEADERS
from scale_server import BENCH_ENV, ROOT, Server, free_port, link_shared, running

CONVERSATION = ("Where is my order?", "SG-10002", "anna.schmidt@example.com", "thanks")
SERVED = re.compile(r"API: \S*http://127\.0\.0\.1:(\d+)")  # its log may be coloured
READY_SECONDS = 300.0

Conversation = Callable[[], Awaitable[list[float]]]  # one conversation: its turns' ms


@contextmanager
def langgraph_dev(root: Path, warm: Path) -> Iterator[str]:
    """`langgraph dev` serving the project's graph on a fresh data dir; its URL.
    (tests/test_langgraph_dev.py starts it the same way.)"""
    home = root / "langgraph-dev"
    data = home / "data"
    link_shared(data, warm)
    project = json.loads((ROOT / "langgraph.json").read_text())
    module, _, attr = project["graphs"]["supportgraph"].partition(":")
    config = home / "langgraph.json"
    config.write_text(
        json.dumps(
            {
                "dependencies": [str(ROOT)],
                "graphs": {"supportgraph": f"{(ROOT / module).resolve()}:{attr}"},
                "env": {},
            }
        )
    )
    command = [str(Path(sys.executable).with_name("langgraph")), "dev", "--no-browser"]
    command += ["--no-reload", "--host", "127.0.0.1", "--port", str(free_port())]
    command += ["--config", str(config)]
    env = {
        **os.environ,
        **BENCH_ENV,
        "SUPPORTGRAPH_DATA_DIR": str(data),
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
    }
    log = home / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield wait_until_served(process, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_served(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"langgraph dev exited:\n{log.read_text()[-3000:]}")
        found = SERVED.search(log.read_text())
        if found:
            url = f"http://127.0.0.1:{found.group(1)}"
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    raise RuntimeError(f"langgraph dev did not answer in {READY_SECONDS:.0f} s")


def over_v1(url: str) -> Conversation:
    async def conversation() -> list[float]:
        async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=60) as http:
            created = await http.post("/v1/threads", json={})
            thread = created.raise_for_status().json()["thread_id"]
            times = []
            for text in CONVERSATION:
                start = time.perf_counter()
                reply = await http.post(f"/v1/threads/{thread}/messages", json={"text": text})
                reply.raise_for_status()
                times.append((time.perf_counter() - start) * 1000)
            return times

    return conversation


def over_sdk(url: str, api_key: str | None) -> Conversation:
    async def conversation() -> list[float]:
        client = get_client(url=url, api_key=api_key)
        thread = (await client.threads.create())["thread_id"]
        times = []
        for text in CONVERSATION:
            start = time.perf_counter()
            values = await client.runs.wait(thread, "supportgraph", input={"text": text})
            times.append((time.perf_counter() - start) * 1000)
            if not isinstance(values, dict) or "__error__" in values:
                raise RuntimeError(f"run failed: {values}")
        return times

    return conversation


def after_start_sdk(url: str, api_key: str | None) -> Conversation:
    """runs.stream, timed from the run's `metadata` event (sent when a worker has picked the
    run up) to its last event: the run itself, without the wait in the server's queue."""

    async def conversation() -> list[float]:
        client = get_client(url=url, api_key=api_key)
        thread = (await client.threads.create())["thread_id"]
        times = []
        for text in CONVERSATION:
            began: float | None = None
            async for part in client.runs.stream(
                thread, "supportgraph", input={"text": text}, stream_mode="values"
            ):
                if part.event == "metadata":
                    began = time.perf_counter()
                elif part.event == "error":
                    raise RuntimeError(f"run failed: {part.data}")
            if began is None:
                raise RuntimeError("the stream had no metadata event")
            times.append((time.perf_counter() - began) * 1000)
        return times

    return conversation


def timed(conversation: Conversation, repeats: int) -> dict[str, Any]:
    async def all_of_them() -> list[float]:
        await conversation()  # unmeasured: the server's first run builds its Deps
        times: list[float] = []
        for _ in range(repeats):
            times += await conversation()
        return times

    times = asyncio.run(all_of_them())
    return {
        "turns": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(pct(times, 95), 1),
        "max_ms": round(max(times), 1),
    }


def compare(root: Path, warm: Path, repeats: int) -> dict[str, Any]:
    results = {}
    with running(Server(root / "ours", warm)) as ours:
        results["supportgraph serve, /v1 messages"] = timed(over_v1(ours.url), repeats)
        results["supportgraph serve, langgraph-sdk runs.wait"] = timed(
            over_sdk(ours.url, CLIENT_KEY), repeats
        )
        results["supportgraph serve, runs.stream from the run's start"] = timed(
            after_start_sdk(ours.url, CLIENT_KEY), repeats
        )
    with langgraph_dev(root, warm) as url:
        results["langgraph dev, langgraph-sdk runs.wait"] = timed(over_sdk(url, None), repeats)
        results["langgraph dev, runs.stream from the run's start"] = timed(
            after_start_sdk(url, None), repeats
        )
    return {"repeats": repeats, "conversation": CONVERSATION, "servers": results}


def print_compare(report: dict[str, Any]) -> None:
    print(
        f"\n### One 4-turn conversation x {report['repeats']}, sequentially "
        f"({' -> '.join(report['conversation'])})\n"
    )
    print("| server, client | turns | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, r in report["servers"].items():
        print(f"| {name} | {r['turns']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} |")
    print(
        "\n`langgraph dev` runs each run from its in-memory queue, which looks for new runs "
        "every 0.5 s when idle (langgraph_runtime_inmem ops.Runs.next): a sequential client "
        "waits for that; 'from the run's start' leaves the wait out."
    )
