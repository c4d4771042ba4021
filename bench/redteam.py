"""The security and durability red-team figures, measured on a real server and real processes.

    python bench/redteam.py [--drills 3] [--turns 60]

Prints one table: cross-client reads (a second client key sharing a 20-character prefix,
and takeover of a thread made without an owner), the red team's hand-made hostile requests
and how many got a 5xx, kill -9 drills at every step of a confirmed write (writes applied
twice, writes whose outcome the customer never saw), 50 concurrent creators and writers
(errors), the customer's PII bytes left in any file of the data dir after erasure, and turn
p50 in-process. Runs on whatever checkout it is in, so the same script measures before and
after a change (parts the older code cannot run print "n/a").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from supportgraph.config import Settings  # noqa: E402
from supportgraph.runtime.agent import SupportAgent  # noqa: E402
from tests.server_helpers import auth, running_server  # noqa: E402

ALICE = "client-shared-prefix-AAAAAAAAAAAA"
MALLORY = "client-shared-prefix-BBBBBBBBBBBB"
AGENT = "agent-shared-prefix-CCCCCCCCCCCC"
ADMIN = "admin-key-for-redteam-bench-0001"
KEYS = {ALICE: "client", MALLORY: "client", AGENT: "agent", ADMIN: "admin"}
PII = {  # the demo customer C1001's email, phone and street
    "email": b"anna.schmidt@example.com",
    "phone": b"+49 151 2345 6789",
    "street": b"Kastanienallee 21",
}
KILL_POINTS = [
    "after_message_kept",
    "after_tool",
    "after_checkpoint",
    "inside_transcript_write",
    "after_commit",
]


def hostile_requests(thread: str) -> list[tuple[str, str, dict[str, Any]]]:
    """The red team's requests that answered 500 (method, path, httpx arguments)."""
    deep = b"[" * 100_000 + b"]" * 100_000
    return [
        ("POST", f"/threads/{thread}/runs/wait", {"content": b'{"input": {"text": "\xff\xfe"}}'}),
        ("POST", "/threads", {"content": b'{"metadata": {"k": "\\ud800"}}'}),
        ("POST", "/v1/threads", {"content": b'{"metadata": {"k": "\\ud800"}}'}),
        ("POST", f"/threads/{thread}/runs/wait", {"content": b"[" * 900 + b"]" * 900}),
        ("POST", f"/threads/{thread}/runs/wait", {"content": deep}),
        ("POST", f"/threads/{thread}/history", {"json": {"limit": "abc"}}),
        ("POST", f"/threads/{thread}/history", {"content": b'{"limit": NaN}'}),
        ("POST", f"/threads/{thread}/history", {"content": b'{"limit": Infinity}'}),
        ("POST", f"/threads/{thread}/history", {"content": b'{"limit": ' + b"9" * 5000 + b"}"}),
        ("POST", f"/threads/{thread}/runs/wait", {"json": {"input": "hi"}}),
        ("POST", f"/threads/{thread}/runs/wait", {"json": {"command": ["resume"]}}),
        (
            "POST",
            f"/threads/{thread}/runs/stream",
            {"json": {"input": {"text": "hi"}, "stream_mode": 5}},
        ),
        ("POST", "/threads", {"json": {"metadata": "x"}}),
        (
            "POST",
            f"/threads/{thread}/state",
            {"json": {"values": {"persona": "x"}, "as_node": "nope"}},
        ),
        ("POST", "/v1/threads", {"json": {"metadata": {"blob": "x" * 20_000_000}}}),
    ]


def headers(key: str) -> dict[str, str]:
    return {**auth(key), "content-type": "application/json"}


async def isolation_and_input(data_dir: Path, shared: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    env = {"SUPPORTGRAPH_API_KEYS": json.dumps(KEYS)}
    with running_server(data_dir, shared=shared, env=env) as url:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            threads = []
            for _ in range(10):
                r = await http.post("/v1/threads", json={}, headers=auth(ALICE))
                thread = r.json()["thread_id"]
                threads.append(thread)
                for text in ("Where is my order SG-10002?", "anna.schmidt@example.com"):
                    await http.post(
                        f"/v1/threads/{thread}/messages", json={"text": text}, headers=auth(ALICE)
                    )
            reads = attempts = 0
            for thread in threads:
                for method, path, body in (
                    ("GET", f"/v1/threads/{thread}", None),
                    ("GET", f"/v1/threads/{thread}/turns", None),
                    ("GET", f"/threads/{thread}/state", None),
                    ("POST", f"/v1/threads/{thread}/messages", {"text": "hi"}),
                ):
                    r = await http.request(method, path, json=body, headers=auth(MALLORY))
                    attempts += 1
                    reads += r.status_code == 200
            # A thread made with the Python API has no owner record: can a client take it?
            async with SupportAgent.open(Settings(data_dir=data_dir)) as agent:
                await agent.send("cli-made-thread", "Where is my order SG-10002?")
                await agent.send("cli-made-thread", "anna.schmidt@example.com")
            await http.post(
                "/threads", json={"thread_id": "cli-made-thread"}, headers=auth(MALLORY)
            )
            r = await http.get("/threads/cli-made-thread/state", headers=auth(MALLORY))
            attempts += 1
            reads += r.status_code == 200
            out["cross-client reads"] = f"{reads} of {attempts}"
            r = await http.post("/v1/threads", json={}, headers=auth(ALICE))
            thread = r.json()["thread_id"]
            requests = hostile_requests(thread)
            server_errors = broken = 0
            for method, path, kwargs in requests:
                try:
                    r = await http.request(method, path, headers=headers(ALICE), **kwargs)
                    server_errors += r.status_code >= 500
                except httpx.HTTPError:
                    broken += 1  # the server dropped the connection
            out["hostile requests: 5xx (dropped)"] = (
                f"{server_errors} of {len(requests)} ({broken})"
            )
            out["concurrent creators+writers: errors"] = await concurrent(http)
    return out


async def concurrent(http: httpx.AsyncClient, customers: int = 50) -> str:
    """Each client: 3 x (create a /v1 thread, create a LangGraph thread, 2 messages)."""
    outcomes: list[int | str] = []

    async def customer(n: int) -> None:
        try:
            for _ in range(3):
                r = await http.post("/v1/threads", json={"metadata": {"n": n}}, headers=auth(ALICE))
                outcomes.append(r.status_code)
                outcomes.append(
                    (await http.post("/threads", json={}, headers=auth(ALICE))).status_code
                )
                if r.status_code != 201:
                    continue
                for text in ("Where is my order?", "SG-10002"):
                    sent = await http.post(
                        f"/v1/threads/{r.json()['thread_id']}/messages",
                        json={"text": text},
                        headers=auth(ALICE),
                    )
                    outcomes.append(sent.status_code)
        except httpx.HTTPError as exc:
            outcomes.append(type(exc).__name__)

    await asyncio.gather(*(customer(n) for n in range(customers)))
    errors = sum(o not in (200, 201) for o in outcomes)
    return f"{errors} of {len(outcomes)} requests ({customers} clients)"


def link_models(data_dir: Path, shared: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("models", "kb"):
        if not (data_dir / name).exists():
            (data_dir / name).symlink_to(shared / name, target_is_directory=True)


async def kill_drills(work: Path, shared: Path, rounds: int) -> dict[str, Any]:
    if not (ROOT / "tests" / "crash" / "child.py").exists():
        return {"kill -9 drills": "n/a (no drill in this checkout)"}
    twice = unreported = total = 0
    for point in KILL_POINTS:
        for n in range(rounds):
            data_dir = work / f"kill-{point}-{n}"
            link_models(data_dir, shared)
            child = subprocess.run(
                [sys.executable, "-m", "tests.crash.child", str(data_dir), "t", point],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            total += 1
            if child.returncode != -signal.SIGKILL:
                raise RuntimeError(f"{point}: the child was not killed: {child.stderr[-500:]}")
            async with SupportAgent.open(Settings(data_dir=data_dir)) as agent:
                log = agent.store.writes_log()
                twice += sum(w["action"] == "cancel_order" for w in log) > 1
                history = await agent.history("t")
                seen = history and "is cancelled" in history[-1].reply
                unreported += not seen
    return {
        "kill -9 drills": f"{total} ({len(KILL_POINTS)} points x {rounds})",
        "writes applied twice": twice,
        "writes without a reported outcome": unreported,
    }


async def erasure(data_dir: Path, shared: Path) -> dict[str, Any]:
    link_models(data_dir, shared)
    async with SupportAgent.open(Settings(data_dir=data_dir)) as agent:
        # Verified by email; then one thread where she gives name, phone and street only.
        await agent.send("e1", "Where is my order SG-10002?")
        await agent.send("e1", "anna.schmidt@example.com")
        await agent.send("e2", "Hi, I'm Anna Schmidt, my phone is +49 151 2345 6789")
        await agent.send("e2", "I live at Kastanienallee 21, 10115 Berlin")
        await agent.send("e3", "I want to talk to a human, my email is anna.schmidt@example.com")
        await agent.erase_customer("C1001")
        left = pii_bytes(data_dir)
    return {"PII occurrences on disk after erasure": left}


def pii_bytes(data_dir: Path) -> str:
    counts = dict.fromkeys(PII, 0)
    for path in data_dir.rglob("*"):
        if path.is_file() and not path.is_symlink() and "models" not in path.parts:
            data = path.read_bytes()
            for name, needle in PII.items():
                counts[name] += data.count(needle)
    return ", ".join(f"{k} {v}" for k, v in counts.items())


async def turn_p50(data_dir: Path, shared: Path, turns: int) -> dict[str, Any]:
    link_models(data_dir, shared)
    script = ["Hi there", "Where is my order?", "SG-10002", "anna.schmidt@example.com"]
    async with SupportAgent.open(Settings(data_dir=data_dir)) as agent:
        await agent.send("warm", "Hi there")
        times = []
        for n in range(turns):
            started = time.perf_counter()
            await agent.send(f"p{n // len(script)}", script[n % len(script)])
            times.append((time.perf_counter() - started) * 1000)
    return {"turn p50 in-process (ms)": round(statistics.median(times), 1)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drills", type=int, default=3, help="kills per step")
    parser.add_argument("--turns", type=int, default=60)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sg-redteam-"))
    shared = work / "shared"
    shared.mkdir()
    # Train the NLU model and index the KB once; every data dir below links them.
    async with SupportAgent.open(Settings(data_dir=shared)) as agent:
        await agent.send("warm", "Hi there")
    rows: dict[str, Any] = {}
    rows |= await turn_p50(work / "latency", shared, args.turns)
    rows |= await isolation_and_input(work / "server", shared)
    rows |= await kill_drills(work, shared, args.drills)
    rows |= await erasure(work / "erasure", shared)
    width = max(len(k) for k in rows)
    print(f"| {'check':{width}} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for key, value in rows.items():
        print(f"| {key:{width}} | {value} |")


if __name__ == "__main__":
    asyncio.run(main())
