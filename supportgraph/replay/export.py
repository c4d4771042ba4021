"""Export a thread as an eval-suite case (supportgraph/evals/suite.py format) whose
expectations are what the recorded turns did, so a bug report becomes a regression test
in one command. The case starts from the store as the conversation saw it: differences
from the brand's store file become `store_overrides`."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from supportgraph.backends.loader import load_store_file
from supportgraph.backends.sqlite import SqliteStore
from supportgraph.domain.records import TurnRecord
from supportgraph.domain.schema import Store
from supportgraph.evals.runner import DEFAULT_STEP_SECONDS
from supportgraph.evals.suite import Case
from supportgraph.runtime.agent import SupportAgent, ThreadHistory, kind_of

# Facts worth pinning in a reply: order ids, tracking numbers, amounts.
REPLY_FACTS = re.compile(r"\b[A-Z]{2,}-?\d{3,}\b|\b\d+[.,]\d{2}\b")
STORE_KINDS = ("customers", "products", "orders")


def expectations(record: TurnRecord, thread_id: str) -> dict[str, Any]:
    expect: dict[str, Any] = {"reply_language": record.reply_language}
    if record.intent:  # a message queued for a human was read by nobody: no intent to pin
        expect["intent"] = record.intent
    if record.author != "bot":
        expect["author"] = record.author
    if record.awaiting:
        expect["awaiting"] = record.awaiting
    else:
        expect["awaiting_none"] = True
    calls = [
        {
            "name": call.name,
            "args": {
                k: v
                for k, v in call.args.items()
                if k != "key" and thread_id not in str(v)  # per-thread values never repeat
            },
        }
        for call in record.tool_calls
    ]
    if calls:
        expect["tools_called"] = calls
    else:
        expect["no_tools"] = True
    if record.escalation.action != "none":
        escalation: dict[str, Any] = {"action": record.escalation.action}
        if record.escalation.reason:
            escalation["reason"] = record.escalation.reason.split(":")[0]
        expect["escalation"] = escalation
    facts = list(dict.fromkeys(REPLY_FACTS.findall(record.reply)))
    if facts:
        expect["reply_contains"] = facts
    return expect


def store_overrides(as_was: Store, base: Store) -> dict[str, dict[str, dict[str, Any]]]:
    """Top-level fields of records that differ from the brand's store file."""
    overrides: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in STORE_KINDS:
        known = {r.id: r.model_dump(mode="json") for r in getattr(base, kind)}
        for item in getattr(as_was, kind):
            now = item.model_dump(mode="json")
            if item.id not in known:
                raise ValueError(
                    f"{kind[:-1]} {item.id} is not in the brand's store file: this store was "
                    "loaded from another file (export the case with --store-out FILE)"
                )
            changed = {k: v for k, v in now.items() if known[item.id].get(k) != v}
            if changed:
                overrides.setdefault(kind, {})[item.id] = changed
    return overrides


def build_case(
    history: ThreadHistory,
    live_store: SqliteStore,
    base_store_file: Path,
    case_id: str | None = None,
    store_out: Path | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sg-export-") as tmp:
        copy = Path(tmp) / "store.db"
        live_store.copy_as_of(history.started_real, copy)
        snapshot = SqliteStore(copy)
        as_was = snapshot.export()
        snapshot.close()
    # The runner's clock starts at setup.clock and moves DEFAULT_STEP_SECONDS before each
    # turn (plus wait_minutes): choose both so every turn sees its recorded time again.
    clock = history.clocks[0] - DEFAULT_STEP_SECONDS
    setup: dict[str, Any] = {"clock": dt.datetime.fromtimestamp(clock, dt.UTC).isoformat()}
    if store_out is not None:
        store_out.write_text(as_was.model_dump_json(indent=1, exclude_none=True), encoding="utf-8")
        setup["store"] = str(store_out.resolve())
    else:
        overrides = store_overrides(as_was, load_store_file(base_store_file))
        if overrides:
            setup["store_overrides"] = overrides
    turns: list[dict[str, Any]] = []
    for index, record in enumerate(history.records):
        kind = kind_of(record)
        clock += DEFAULT_STEP_SECONDS
        turn: dict[str, Any]
        if kind == "agent_reply":
            turn = {"agent_reply": record.reply}
        elif kind == "release":
            turn = {"release": True}
        else:
            turn = {"say": record.customer_text}
            wait = (history.clocks[index] - clock) / 60
            if wait > 0.01:
                turn["wait_minutes"] = round(wait, 3)
                clock += wait * 60
        if record.error is None:
            turn["expect"] = expectations(record, history.thread_id)
        turns.append(turn)
    case = {
        "id": case_id or f"replay-{history.thread_id}",
        "tags": ["replay"],
        "description": f"exported from thread {history.thread_id} by `supportgraph replay export`",
        "setup": setup,
        "turns": turns,
    }
    Case.model_validate(case)  # what we write must load in the eval runner
    return case


async def export_case(
    agent: SupportAgent,
    thread_id: str,
    case_id: str | None = None,
    store_out: Path | None = None,
) -> dict[str, Any]:
    """The thread as an eval case (see build_case). ReplayError for an unknown thread,
    ValueError when the store cannot be expressed against the brand's store file."""
    history = await agent.replay_history(thread_id)
    store = agent.store
    if not isinstance(store, SqliteStore):
        raise ValueError("exporting a case needs the SQLite store (it copies it as it was)")
    return build_case(history, store, agent.settings.resolved_store_path(), case_id, store_out)


def case_yaml(case: dict[str, Any]) -> str:
    header = (
        "# A conversation exported as an eval case; expectations are what the bot did then.\n"
        "# Edit the expectations that describe the bug into what should happen instead.\n"
        "# It holds the customer's messages verbatim: treat it as customer data.\n"
    )
    body = yaml.safe_dump({"cases": [case]}, allow_unicode=True, sort_keys=False, width=100)
    return header + body
