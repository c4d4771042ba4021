"""Expectations against TurnRecords and the store: each failed check names the field,
what was expected, what happened, and the node path of the turn."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from supportgraph.domain.records import TurnRecord
from supportgraph.evals.suite import Expect, StoreExpect

# Logging the conversation in the CRM is not a change a customer asked for.
BOOKKEEPING = {"record_interaction"}


@dataclass
class Failure:
    turn: int  # 1-based turn of the case; 0 for end-of-case store expectations
    field: str
    expected: Any
    actual: Any
    path: list[str]

    def describe(self) -> str:
        where = f"turn {self.turn}" if self.turn else "store"
        return f"{where}: {self.field}: expected {self.expected!r}, got {self.actual!r}" + (
            f" (path {' > '.join(self.path)})" if self.path else ""
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _norm(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def writes_of(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [w for w in log if w["action"] not in BOOKKEEPING]


def check_turn(
    n: int, expect: Expect, record: TurnRecord, writes_during: list[dict[str, Any]]
) -> list[Failure]:
    fails: list[Failure] = []

    def fail(field: str, expected: Any, actual: Any) -> None:
        fails.append(Failure(n, field, expected, actual, record.path))

    for field in ("language", "reply_language", "intent", "persona", "author"):
        wanted = getattr(expect, field)
        if wanted is not None and getattr(record, field) != wanted:
            fail(field, wanted, getattr(record, field))
    for key, value in (expect.entities or {}).items():
        if record.entities.get(key) != value:
            fail(f"entities.{key}", value, record.entities.get(key))
    called = [c for c in record.tool_calls if c.ok]
    if expect.tools_called is not None:
        position = 0
        for wanted_tool in expect.tools_called:
            found = next(
                (
                    i
                    for i, c in enumerate(called[position:], position)
                    if c.name == wanted_tool.name
                    and all(c.args.get(k) == v for k, v in wanted_tool.args.items())
                ),
                None,
            )
            if found is None:
                fail(
                    "tools_called",
                    wanted_tool.model_dump(exclude_defaults=True),
                    [{"name": c.name, "args": c.args} for c in called],
                )
                break
            position = found + 1
    if expect.no_tools and called:
        fail("no_tools", [], [c.name for c in called])
    if expect.no_writes and writes_of(writes_during):
        fail("no_writes", [], [w["action"] for w in writes_of(writes_during)])
    if expect.escalation is not None:
        esc = record.escalation
        if expect.escalation.action is not None and esc.action != expect.escalation.action:
            fail("escalation.action", expect.escalation.action, esc.action)
        if expect.escalation.priority is not None and esc.priority != expect.escalation.priority:
            fail("escalation.priority", expect.escalation.priority, esc.priority)
        if expect.escalation.reason is not None and not (esc.reason or "").startswith(
            expect.escalation.reason
        ):
            fail("escalation.reason", expect.escalation.reason, esc.reason)
    if expect.awaiting is not None and record.awaiting != expect.awaiting:
        fail("awaiting", expect.awaiting, record.awaiting)
    if expect.awaiting_none and record.awaiting is not None:
        fail("awaiting", None, record.awaiting)
    reply = _norm(record.reply)
    for text in expect.reply_contains:
        if _norm(text).lower() not in reply.lower():
            fail("reply_contains", text, record.reply)
    for text in expect.reply_not_contains:
        if _norm(text).lower() in reply.lower():
            fail("reply_not_contains", text, record.reply)
    if expect.reply_matches and not re.search(
        expect.reply_matches, reply, re.IGNORECASE | re.DOTALL
    ):
        fail("reply_matches", expect.reply_matches, record.reply)
    for node in expect.path_contains:
        if node not in record.path:
            fail("path_contains", node, record.path)
    return fails


def check_store(
    expect: StoreExpect,
    before: dict[str, Any],
    after: dict[str, Any],
    log: list[dict[str, Any]],
) -> list[Failure]:
    fails: list[Failure] = []
    for kind in ("orders", "customers"):
        wanted_records: dict[str, dict[str, Any]] = getattr(expect, kind)
        for rid, fields in wanted_records.items():
            actual = after[kind].get(rid)
            if actual is None:
                fails.append(Failure(0, f"{kind}.{rid}", fields, None, []))
                continue
            for key, value in fields.items():
                if actual.get(key) != value:
                    fails.append(Failure(0, f"{kind}.{rid}.{key}", value, actual.get(key), []))
        if expect.nothing_else_changed:
            changed = [
                rid
                for rid, doc in after[kind].items()
                if rid not in wanted_records and before[kind].get(rid) != doc
            ]
            if changed:
                fails.append(Failure(0, f"{kind} unchanged", [], changed, []))
    if expect.no_writes and writes_of(log):
        fails.append(Failure(0, "no_writes", [], [w["action"] for w in writes_of(log)], []))
    return fails
