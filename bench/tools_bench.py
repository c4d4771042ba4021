"""Tools through the graph: per-tool latency, a 12-turn return flow, 100 concurrent conversations.

    python bench/tools_bench.py [--rounds 10] [--conversations 100]

Writes go to fresh copies of the demo store; the concurrency run then checks the database:
every pending order cancelled at most once, every confirmed cancellation present.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _stats import pct  # bench/ is on sys.path when a script runs

from supportgraph.backends.sqlite import SqliteStore
from supportgraph.config import DEMO_BRAND_DIR, EscalationRules, Settings
from supportgraph.runtime.agent import SupportAgent

DEMO_NOW = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC).timestamp()

# Conversations that together reach every tool.
TOOL_SCRIPTS = [
    ["Where is my order?", "anna.schmidt@example.com", "SG-10002"],
    ["hello, my email is anna.schmidt@example.com", "where is my order?", "SG-10002"],
    ["estado de mi pedido SG-10006", "Camille Martin", "75011"],
    ["Do you have the Trail Runner Sneakers in size 42 black?", "yes", "anna.schmidt@example.com"],
    ["Which products do you have?", "what boots do you have?", "How much are the Chelsea Boots?"],
    ["How long would delivery to France take?", "I want to talk to a human"],
    [
        "Quiero cambiar la dirección de envío del pedido SG-10005",
        "carlos.garcia@example.com",
        "Calle de Alcalá 20, 28014 Madrid",
        "sí",
    ],
    ["Ich möchte bei Bestellung SG-10001 die Größe auf L ändern", "anna.schmidt@example.com", "ja"],
    ["I want to cancel my order SG-10001", "anna.schmidt@example.com", "yes"],
    [
        "Je voudrais changer le moyen de paiement de la commande SG-10005",
        "carlos.garcia@example.com",
        "oui",
    ],
    [
        "Can I exchange the sneakers from order SG-10003 for size 44?",
        "anna.schmidt@example.com",
        "yes",
    ],
    ["I'd like to return order SG-10003", "anna.schmidt@example.com", "yes"],
    ["My payment for order SG-10005 failed", "carlos.garcia@example.com", "yes"],
    [
        "Please change my default address to Torstrasse 5, 10119 Berlin",
        "anna.schmidt@example.com",
        "yes",
        "Please contact me by sms from now on",
    ],
]

RETURN_FLOW = [
    "Hi there",
    "I want to return something",
    "anna.schmidt@example.com",
    "actually, first: what is your return policy?",
    "how long does the refund take?",
    "ok, the order is SG-10004",
    "sorry, the order is SG-10003",
    "hmm, not sure yet",
    "I'd like to return order SG-10003",
    "yes",
    "do I get a return label?",
    "thanks, bye",
]


class Sandbox:
    """A data dir with a fresh copy of the store; models and the KB index are shared."""

    def __init__(self, root: Path, template: Path) -> None:
        self.root = root
        self.template = template
        self.count = 0

    def new(self) -> Settings:
        self.count += 1
        path = self.root / f"run{self.count}"
        path.mkdir()
        for shared in ("models", "kb"):
            (path / shared).symlink_to(self.template / shared, target_is_directory=True)
        shutil.copy(self.template / "store.db", path / "store.db")
        # Scripts repeat questions on purpose; the repetition rule would hand them off.
        return Settings(data_dir=path, escalation=EscalationRules(repeat_limit=10_000))


async def prepare(template: Path) -> None:
    async with SupportAgent.open(Settings(data_dir=template)) as agent:
        agent.warm()
        await agent.send("warm", "how much is shipping?")


async def tool_latencies(sandbox: Sandbox, rounds: int) -> dict[str, list[float]]:
    per_tool: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        async with SupportAgent.open(sandbox.new()) as agent:
            agent.set_clock(lambda: DEMO_NOW)
            agent.warm()
            for i, script in enumerate(TOOL_SCRIPTS):
                for text in script:
                    record = await agent.send(f"tools-{i}", text)
                    for call in record.tool_calls:
                        per_tool[call.name].append(call.ms)
    return per_tool


async def return_flow(sandbox: Sandbox, rounds: int) -> tuple[list[float], list[float]]:
    latencies, normal = [], []
    for r in range(rounds):
        async with SupportAgent.open(sandbox.new()) as agent:
            agent.set_clock(lambda: DEMO_NOW)
            agent.warm()  # per-process model and KB loading is not per-turn cost
            for text in RETURN_FLOW:
                start = time.perf_counter()
                await agent.send(f"ret-{r}", text)
                latencies.append((time.perf_counter() - start) * 1000)
            for text in ["how much is shipping?", "Where is my order?"] * 6:
                start = time.perf_counter()
                await agent.send(f"plain-{r}", text)
                normal.append((time.perf_counter() - start) * 1000)
    return latencies, normal


async def concurrent(sandbox: Sandbox, conversations: int) -> dict[str, float]:
    settings = sandbox.new()
    store_json = json.loads((DEMO_BRAND_DIR / "store.json").read_text(encoding="utf-8"))
    emails = {c["id"]: c["email"] for c in store_json["customers"]}
    pending = [
        (o["id"], emails[o["customer_id"]])
        for o in store_json["orders"]
        if o["status"] == "pending"
    ]
    async with SupportAgent.open(settings) as agent:
        agent.set_clock(lambda: DEMO_NOW)

        async def one(i: int) -> tuple[str, bool, int]:
            order_id, email = pending[i % len(pending)]  # several conversations per order
            thread = f"conc-{i}"
            await agent.send(thread, f"please cancel my order {order_id}")
            await agent.send(thread, email)
            done = await agent.send(thread, "yes")
            return order_id, any(c.name == "cancel_order" and c.ok for c in done.tool_calls), 3

        start = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(conversations)))
        elapsed = time.perf_counter() - start
    store = SqliteStore(settings.resolved_data_dir() / "store.db")
    log = [w for w in store.writes_log() if w["action"] == "cancel_order"]
    per_order = defaultdict(int)
    for w in log:
        per_order[w["target"]] += 1
    confirmed = {order for order, ok, _ in results if ok}
    statuses = {o: (await store.get_order(o)).status for o, _ in pending}  # type: ignore[union-attr]
    store.close()
    return {
        "conversations": conversations,
        "turns": sum(t for *_, t in results),
        "seconds": elapsed,
        "pending orders": len(pending),
        "cancellations written": len(log),
        "orders written twice": sum(1 for n in per_order.values() if n > 1),
        "confirmed but not in the database": sum(
            1 for o in confirmed if statuses[o] != "cancelled"
        ),
        "in the database but not confirmed": sum(
            1 for o, s in statuses.items() if s == "cancelled" and o not in confirmed
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--conversations", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template"
        asyncio.run(prepare(template))
        sandbox = Sandbox(Path(tmp), template)
        per_tool = asyncio.run(tool_latencies(sandbox, args.rounds))
        flow, normal = asyncio.run(return_flow(sandbox, args.rounds))
        conc = asyncio.run(concurrent(sandbox, args.conversations))

    print(
        f"\nPer-tool latency through the graph ({args.rounds} rounds of {len(TOOL_SCRIPTS)} scripted conversations, ms)\n"
    )
    print("| tool | calls | p50 | p95 |\n|---|---|---|---|")
    for name in sorted(per_tool):
        values = per_tool[name]
        print(
            f"| {name} | {len(values)} | {statistics.median(values):.2f} | {pct(values, 95):.2f} |"
        )
    print(
        f"\nPer-turn latency, 12-turn return flow x {args.rounds} (SQLite store + checkpoints, ms)\n"
    )
    print("| turns | p50 | p95 | p99 |\n|---|---|---|---|")
    print(
        f"| return flow | {statistics.median(flow):.1f} | {pct(flow, 95):.1f} | {pct(flow, 99):.1f} |"
    )
    print(
        f"| plain questions, same agent | {statistics.median(normal):.1f} | {pct(normal, 95):.1f} | {pct(normal, 99):.1f} |"
    )
    print(
        f"\n{conc['conversations']} concurrent conversations in one process (each: cancel request, identity, yes)\n"
    )
    print("| measure | value |\n|---|---|")
    for key, value in conc.items():
        print(f"| {key} | {value:.2f} |" if isinstance(value, float) else f"| {key} | {value} |")
    print(f"| throughput | {conc['turns'] / conc['seconds']:.1f} turns/s |")


if __name__ == "__main__":
    main()
