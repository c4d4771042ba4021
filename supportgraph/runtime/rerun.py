"""Re-run a thread against the current code: its customer messages (and human agent
actions), in order, through the current graph in a sandbox thread, against a copy of the
store as it was when the conversation began, at the clock each turn originally ran at.
The report says, turn by turn, which behaviour diverged (`SupportAgent.rerun`)."""

from __future__ import annotations

import asyncio
import difflib
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supportgraph.backends.sqlite import SqliteStore
from supportgraph.config import Settings
from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.errors import NoPendingHandoff, NotSupportedByStore
from supportgraph.runtime.history import ThreadHistory, kind_of, load_history
from supportgraph.runtime.sandbox import sandbox_settings

if TYPE_CHECKING:
    from supportgraph.runtime.agent import SupportAgent

COMPARED = ("author", "intent", "path", "tool_calls", "escalation", "awaiting", "reply", "error")
PER_RUN_ARGS = {"key"}  # idempotency keys name the thread: they differ by construction


def _same_thread(value: Any, sandbox: str, original: str) -> Any:
    if isinstance(value, str):
        return value.replace(sandbox, original)
    if isinstance(value, dict):
        return {k: _same_thread(v, sandbox, original) for k, v in value.items()}
    if isinstance(value, list):
        return [_same_thread(v, sandbox, original) for v in value]
    return value


def behaviour(record: TurnRecord | None, sandbox: str = "", original: str = "") -> dict[str, Any]:
    """The fields a rerun compares, in a comparable form."""
    if record is None:
        return {name: None for name in COMPARED}
    calls = [
        {
            "name": call.name,
            "args": {k: v for k, v in call.args.items() if k not in PER_RUN_ARGS},
            "ok": call.ok,
        }
        for call in record.tool_calls
    ]
    escalation = record.escalation
    return {
        "author": record.author,
        "intent": record.intent,
        "path": record.path,
        "tool_calls": _same_thread(calls, sandbox, original) if sandbox else calls,
        "escalation": f"{escalation.action}:{escalation.reason or ''}",
        "awaiting": record.awaiting,
        "reply": record.reply,
        "error": record.error is not None,
    }


def word_diff(before: str, after: str) -> str:
    """`[-removed-]{+added+}` over words: readable in a terminal and in JSON."""
    old, new = before.split(), after.split()
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if op == "equal":
            out.extend(old[i1:i2])
            continue
        if i2 > i1:
            out.append("[-" + " ".join(old[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + " ".join(new[j1:j2]) + "+}")
    return " ".join(out)


@dataclass
class TurnDivergence:
    index: int  # position in the thread's records (1-based)
    turn: int
    kind: str  # say / agent_reply / release
    text: str  # what was sent
    fields: dict[str, dict[str, Any]]  # field -> {"recorded", "rerun"[, "diff"]}

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "turn": self.turn,
            "kind": self.kind,
            "text": self.text,
            "diverged": bool(self.fields),
            "fields": self.fields,
        }


@dataclass
class RerunReport:
    thread_id: str
    turns: list[TurnDivergence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        return any(t.fields for t in self.turns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "diverged": self.diverged,
            "divergent_turns": [t.index for t in self.turns if t.fields],
            "turns": [t.to_dict() for t in self.turns],
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }


def compare(recorded: dict[str, Any], rerun: dict[str, Any]) -> dict[str, dict[str, Any]]:
    fields: dict[str, dict[str, Any]] = {}
    for name in COMPARED:
        if recorded[name] == rerun[name]:
            continue
        entry = {"recorded": recorded[name], "rerun": rerun[name]}
        if name == "reply":
            entry["diff"] = word_diff(recorded[name] or "", rerun[name] or "")
        fields[name] = entry
    return fields


async def _replay_record(
    sandbox: SupportAgent, thread: str, record: TurnRecord, kind: str
) -> TurnRecord:
    if kind == "agent_reply":
        return await sandbox.agent_reply(thread, record.reply)
    if kind == "release":
        return await sandbox.release(thread)
    return await sandbox.send(thread, record.customer_text)


async def rerun_history(
    agent_class: type[SupportAgent],
    history: ThreadHistory,
    live_store: SqliteStore,
    settings: Settings,
    workdir: Path,
) -> RerunReport:
    report = RerunReport(history.thread_id)
    copied = live_store.copy_as_of(history.started_real, workdir / "store.db")
    if copied.reloaded_after:
        report.notes.append(
            "the store was reloaded after this conversation began: the rerun uses the store"
            " as loaded, not as the conversation saw it"
        )
    if copied.not_undoable:
        report.notes.append(
            f"{copied.not_undoable} later store write(s) predate the undo log and are kept"
        )
    thread = f"rerun-{history.thread_id}"
    async with agent_class.open(sandbox_settings(settings, workdir)) as sandbox:
        for index, record in enumerate(history.records):
            sandbox.set_clock(partial(float, history.clocks[index]))
            kind = kind_of(record)
            rerun: TurnRecord | None
            try:
                rerun = await _replay_record(sandbox, thread, record, kind)
            except NoPendingHandoff:
                rerun = None  # the rerun never handed off: there is no human to reply
            report.turns.append(
                TurnDivergence(
                    index + 1,
                    record.turn,
                    kind,
                    record.reply if kind == "agent_reply" else record.customer_text,
                    compare(behaviour(record), behaviour(rerun, thread, history.thread_id)),
                )
            )
    return report


async def rerun(live: SupportAgent, thread_id: str) -> RerunReport:
    """Rerun one thread of a running agent's data; nothing is written to its data."""
    started = time.perf_counter()
    history = await load_history(live, thread_id)
    store = live.store
    if not isinstance(store, SqliteStore):
        raise NotSupportedByStore("rerun needs the SQLite store (it copies it into a sandbox)")
    # The sandbox links the live models and KB index: have them built first.
    await asyncio.to_thread(live.warm)
    with tempfile.TemporaryDirectory(prefix="sg-rerun-") as tmp:
        report = await rerun_history(type(live), history, store, live.settings, Path(tmp))
    report.seconds = time.perf_counter() - started
    return report
