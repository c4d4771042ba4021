"""Run eval cases: each in a sandbox (its own copy of the store, its own checkpoints),
concurrently, and collect failures and the records behind them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportgraph.backends.loader import load_store_file
from supportgraph.backends.sqlite import SqliteStore
from supportgraph.config import EscalationRules, Settings
from supportgraph.domain.records import TurnRecord
from supportgraph.domain.schema import Store
from supportgraph.evals.checks import Failure, check_store, check_turn
from supportgraph.evals.suite import Case
from supportgraph.runtime.agent import SupportAgent, sandbox_settings

DEFAULT_CLOCK = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)
DEFAULT_STEP_SECONDS = 5.0  # the clock moves this much before each turn (a typing pause)


@dataclass
class CaseResult:
    case: Case
    failures: list[Failure] = field(default_factory=list)
    records: list[TurnRecord] = field(default_factory=list)
    writes: list[list[dict[str, Any]]] = field(default_factory=list)  # store writes per turn
    seconds: float = 0.0
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


def _store_for(case: Case, settings: Settings) -> Store:
    path = (
        Path(case.file).parent / case.setup.store
        if case.setup.store
        else settings.resolved_store_path()
    )
    store = load_store_file(path)
    data = store.model_dump()
    for kind, patches in case.setup.store_overrides.items():
        records = {r["id"]: r for r in data.get(kind, [])}
        for rid, fields in patches.items():
            if rid not in records:
                raise ValueError(f"{case.file}:{case.line}: store_overrides: no {kind} {rid!r}")
            records[rid].update(fields)
    return Store.model_validate(data)


def _snapshot(store: SqliteStore) -> dict[str, dict[str, Any]]:
    exported = store.export()
    return {
        "orders": {o.id: json.loads(o.model_dump_json()) for o in exported.orders},
        "customers": {c.id: json.loads(c.model_dump_json()) for c in exported.customers},
    }


async def run_case(case: Case, base: Settings) -> CaseResult:
    """One case in a fresh sandbox: nothing it does reaches another case or a real store."""
    started = time.perf_counter()
    result = CaseResult(case)
    with tempfile.TemporaryDirectory(prefix="sg-eval-") as tmp:
        sandbox = Path(tmp)
        rules = EscalationRules(**{**base.escalation.model_dump(), **case.setup.escalation})
        settings = sandbox_settings(base, sandbox, escalation=rules)
        try:
            store = SqliteStore(sandbox / "store.db")
            store.replace_all(_store_for(case, base))
            before = _snapshot(store)
            store.close()
            async with SupportAgent.open(settings) as agent:
                clock = (case.setup.clock or DEFAULT_CLOCK).timestamp()
                agent.set_clock(lambda: clock)
                db = agent.store
                assert isinstance(db, SqliteStore)
                thread = f"eval-{case.id}"
                for n, turn in enumerate(case.turns, 1):
                    clock += turn.wait_minutes * 60 + DEFAULT_STEP_SECONDS
                    writes_before = len(db.writes_log())
                    if turn.agent_reply is not None:
                        record = await agent.agent_reply(thread, turn.agent_reply)
                    elif turn.release:
                        record = await agent.release(thread)
                    else:
                        record = await agent.send(thread, turn.say or "")
                    result.records.append(record)
                    result.failures += check_turn(
                        n, turn.expect, record, db.writes_log()[writes_before:]
                    )
                if case.expect_store is not None:
                    result.failures += check_store(
                        case.expect_store, before, _snapshot(db), db.writes_log()
                    )
        except Exception as exc:  # a broken case is reported, never aborts the run
            result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


async def prepare_shared(base: Settings) -> None:
    """Models and the KB index, built once and shared read-only by every sandbox."""
    async with SupportAgent.open(base) as agent:
        await asyncio.to_thread(agent.warm)


async def run_cases(
    cases: list[Case], base: Settings | None = None, concurrency: int = 4
) -> list[CaseResult]:
    base = base or Settings()
    await prepare_shared(base)
    gate = asyncio.Semaphore(concurrency)

    async def one(case: Case) -> CaseResult:
        async with gate:
            return await run_case(case, base)

    return list(await asyncio.gather(*(one(c) for c in cases)))
