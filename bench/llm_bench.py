"""LLM mode with a model that answers instantly (the tests' OpenAI-compatible fake over
local HTTP): the framework's own cost per turn (turn latency minus the time spent inside
model calls), model calls per turn, and the time to the first streamed token at an HTTP
client of the server.

python bench/llm_bench.py
"""

from __future__ import annotations

import asyncio
import functools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _stats import pct  # bench/ is on sys.path when a script runs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fake server

import httpx

from supportgraph.config import EscalationRules, Settings
from supportgraph.llm import client as model_client
from supportgraph.llm.settings import LLMSettings
from supportgraph.runtime.agent import SupportAgent
from tests.llm_fake import serve_fake, shop_model
from tests.server_helpers import CLIENT, auth, running_server

SCRIPT = [
    "Where is my order SG-10002?",
    "anna.schmidt@example.com",
    "How much is shipping to France?",
    "I want to cancel my order SG-10001",
    "no",
    "thanks",
]
TURNS = 60
inside_model = [0.0]  # seconds spent inside model calls (client side, HTTP included)


def timed(method: Any) -> Any:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await method(*args, **kwargs)
        finally:
            inside_model[0] += time.perf_counter() - start

    return wrapper


for name in ("complete", "structured", "with_tools", "stream"):
    setattr(model_client.ModelClient, name, timed(getattr(model_client.ModelClient, name)))


async def turns(fake: Any, root: Path, proposals: bool) -> dict[str, list[float]]:
    llm = LLMSettings.model_validate(
        {
            "primary": {"base_url": fake.url, "model": "m", "api_key_env": None},
            "tool_proposals": proposals,
        }
    )
    settings = Settings(
        data_dir=root, llm=llm, escalation=EscalationRules(repeat_limit=10_000, max_minutes=1e9)
    )
    out: dict[str, list[float]] = {"latency": [], "overhead": [], "calls": []}
    async with SupportAgent.open(settings) as agent:
        agent.warm()
        await agent.send("warm-up", "hello")
        for i in range(TURNS):
            inside_model[0], before = 0.0, len(fake.requests)
            record = await agent.send(f"t{i // len(SCRIPT)}", SCRIPT[i % len(SCRIPT)])
            assert record.model == "primary", record.fallback
            out["latency"].append(record.latency_ms)
            out["overhead"].append(record.latency_ms - inside_model[0] * 1000)
            out["calls"].append(len(fake.requests) - before)
    return out


async def offline_turns(root: Path) -> list[float]:
    settings = Settings(data_dir=root, escalation=EscalationRules(repeat_limit=10_000))
    async with SupportAgent.open(settings) as agent:
        agent.warm()
        await agent.send("warm-up", "hello")
        return [
            (await agent.send(f"o{i // len(SCRIPT)}", SCRIPT[i % len(SCRIPT)])).latency_ms
            for i in range(TURNS)
        ]


def first_token(fake: Any, root: Path, repeats: int = 10) -> tuple[list[float], list[float]]:
    env = {
        "SUPPORTGRAPH_LLM__PRIMARY__BASE_URL": fake.url,
        "SUPPORTGRAPH_LLM__PRIMARY__MODEL": "m",
        "SUPPORTGRAPH_LLM__PRIMARY__API_KEY_ENV": "",
    }
    to_token: list[float] = []
    to_turn: list[float] = []
    with (
        running_server(root / "server", shared=root, env=env) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        for _ in range(repeats + 1):
            thread = http.post("/v1/threads", json={}, headers=auth(CLIENT)).json()["thread_id"]
            start, token_at = time.perf_counter(), None
            with http.stream(
                "POST",
                f"/v1/threads/{thread}/messages",
                json={"text": "Where is my order SG-10002?"},
                headers={**auth(CLIENT), "Accept": "text/event-stream"},
            ) as response:
                for line in response.iter_lines():
                    if line == "event: token" and token_at is None:
                        token_at = time.perf_counter() - start
                    if line.startswith("data: ") and '"turn"' in line and "path" in line:
                        json.loads(line[6:])
            done = time.perf_counter() - start
            if token_at is not None:
                to_token.append(token_at * 1000)
            to_turn.append(done * 1000)
    return to_token[1:], to_turn[1:]  # the first request warms the server up


def row(name: str, values: list[float]) -> str:
    return f"| {name} | {statistics.median(values):.1f} | {pct(values, 95):.1f} |"


def main() -> None:
    with serve_fake() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.responder = shop_model
        root = Path(tmp)
        offline = asyncio.run(offline_turns(root))
        plain = asyncio.run(turns(fake, root, proposals=False))
        proposing = asyncio.run(turns(fake, root, proposals=True))
        to_token, to_turn = first_token(fake, root)
    print(f"\n{TURNS} turns each, fake model answering instantly over local HTTP\n")
    print("| per turn | p50 ms | p95 ms |\n|---|---|---|")
    print(row("offline mode: turn latency", offline))
    print(row("LLM mode: turn latency", plain["latency"]))
    print(row("LLM mode: framework overhead (latency - time in model calls)", plain["overhead"]))
    print(row("LLM mode + tool proposals: turn latency", proposing["latency"]))
    print(row("LLM mode + tool proposals: framework overhead", proposing["overhead"]))
    print(row("server SSE: first token at the HTTP client", to_token))
    print(row("server SSE: whole turn at the HTTP client", to_turn))
    for name, data in (("LLM mode", plain), ("LLM mode + tool proposals", proposing)):
        calls = data["calls"]
        print(
            f"\n{name}: model calls per turn mean {statistics.mean(calls):.2f}, "
            f"min {min(calls)}, max {max(calls)}"
        )


if __name__ == "__main__":
    main()
