"""Retention: what a conversation keeps as it grows, and when a quiet one goes
(`SupportAgent.prune`, `supportgraph maintenance prune`; the policy is in Settings).

- Checkpoints: per thread (and checkpoint namespace) the newest `keep_checkpoints` (K), plus
  every checkpoint a TurnRecord names as its `checkpoint_id` (the one that ended its turn:
  forks start from those) — or, with `keep_turn_checkpoints` N, only those of the newest N
  turns, which is what bounds a long thread —, plus the one a fork of the thread started
  from. The rest go with their pending writes (SQLite `writes`, Postgres
  `checkpoint_writes`) and, on Postgres, the `checkpoint_blobs` rows only they used. Turns
  write one checkpoint each (durability="exit"), and that one ends its turn: what goes is
  state written between turns (update_state, LangGraph-API state updates, a thread's
  verified identity before its first message). A kept checkpoint whose parent goes names its
  nearest kept ancestor instead, so the chain LangGraph clients walk stays whole.
- Idle threads: a thread whose last turn (or, never used, its creation) is older than
  `delete_idle_after_days` is deleted like `SupportAgent.delete_thread` deletes one
  (checkpoints, every transcript table, a fork's sandbox store), unless a message is in flight
  (`sg_inflight`, including a recovered reply kept for the customer's retry) or a handoff is
  open (`sg_handoffs`): those are reported and kept.

Each thread is changed in one transaction under its thread lock (the lock turns take: no
turn runs on it meanwhile, in this process, and in every worker on Postgres or with
`process_locks`), and the idle check is made again inside that transaction. Without a shared
lock (another process serving one-worker SQLite) pruning is still safe: the newest checkpoint
is always kept and a turn's new one is newer; only an idle thread's deletion could cross a
message arriving that moment. A dry run runs the same statements and rolls each transaction
back, so it counts exactly what a real run would delete.

Space: SQLite reuses the pages freed, and the file keeps its size (VACUUM would rewrite the
whole file under an exclusive lock, stopping every turn: it is not run); the write-ahead log
is folded back into the file and truncated. The report's bytes are the database's pages in
use, before and after. Postgres: autovacuum makes the deleted rows' space reusable (a VACUUM
here would only do its work sooner) and the files keep their size, so the report has no
bytes: its on-disk sizes before and after would say nothing about what was freed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from supportgraph.runtime.transcript import POSTGRES_CHECKPOINT_TABLES, TABLES

if TYPE_CHECKING:
    from supportgraph.runtime.agent import SupportAgent
    from supportgraph.runtime.sqldb import SqlDb, SqlRunner

T = TypeVar("T")
DAY_SECONDS = 86_400.0

# LangGraph's savers' tables, per engine: every row keyed by thread (what a deleted thread
# loses), and the pending writes of one checkpoint.
CHECKPOINT_TABLES = {"sqlite": ("checkpoints", "writes"), "postgres": POSTGRES_CHECKPOINT_TABLES}
# The checkpoint that ended a turn, read from the stored TurnRecord.
RECORD_CHECKPOINT = {
    "sqlite": "json_extract(record, '$.checkpoint_id')",
    "postgres": "record::jsonb ->> 'checkpoint_id'",
}
# "is one of this list": SQLite has no arrays and reads the list as JSON.
IN_LIST = {"sqlite": "IN (SELECT value FROM json_each(?))", "postgres": "= ANY(?)"}

# Threads whose last turn (or, with no turn, whose creation) is older than the cutoff.
IDLE_THREADS = """
SELECT thread_id FROM sg_threads WHERE updated_at < ?
UNION
SELECT m.thread_id FROM sg_thread_meta m WHERE m.created_at < ?
AND NOT EXISTS (SELECT 1 FROM sg_threads t WHERE t.thread_id = m.thread_id)
"""
LAST_ACTIVE = """
SELECT COALESCE((SELECT updated_at FROM sg_threads WHERE thread_id = ?),
                (SELECT created_at FROM sg_thread_meta WHERE thread_id = ?))
"""
BUSY = """
SELECT (SELECT COUNT(*) FROM sg_inflight WHERE thread_id = ?)
     + (SELECT COUNT(*) FROM sg_handoffs WHERE thread_id = ?)
"""
CROWDED_THREADS = (
    "SELECT DISTINCT thread_id FROM checkpoints GROUP BY thread_id, checkpoint_ns "
    "HAVING COUNT(*) > ?"
)


@dataclass
class PruneReport:
    dry_run: bool
    keep_checkpoints: int
    idle_days: float | None
    threads_deleted: list[str] = field(default_factory=list)
    # Idle, but kept: a message in flight or a handoff open.
    idle_kept: list[str] = field(default_factory=list)
    threads_pruned: int = 0  # threads that lost checkpoints (deleted threads not counted)
    checkpoints_deleted: int = 0  # pruned ones and those of deleted threads
    writes_deleted: int = 0  # pending writes of the deleted checkpoints
    blobs_deleted: int = 0  # Postgres: channel values no kept checkpoint uses
    # SQLite: the database's pages in use (None on Postgres and, after, on a dry run).
    bytes_before: int | None = None
    bytes_after: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _RollBack(Exception):
    """Raised inside a dry run's transaction: it ends rolled back."""


async def prune(
    agent: SupportAgent, now: float | None = None, dry_run: bool = False
) -> PruneReport:
    """Apply the agent's retention settings once (the module docstring says what goes)."""
    settings = agent.settings
    db = agent._transcript.db
    report = PruneReport(dry_run, settings.keep_checkpoints, settings.delete_idle_after_days)
    report.bytes_before = await conversation_bytes(db)
    if settings.delete_idle_after_days is not None:
        moment = time.time() if now is None else now
        await _delete_idle(agent, moment - settings.delete_idle_after_days * DAY_SECONDS, report)
    await _prune_checkpoints(
        agent, settings.keep_checkpoints, report, settings.keep_turn_checkpoints
    )
    if not dry_run:
        if db.dialect == "sqlite" and (report.threads_deleted or report.checkpoints_deleted):
            await agent._transcript.checkpoint_wal()
        report.bytes_after = await conversation_bytes(db)
    return report


# -- idle threads --------------------------------------------------------------------------


@dataclass
class _Deletion:
    checkpoints: int
    store_path: str | None  # a fork's sandbox store


async def _delete_idle(agent: SupportAgent, cutoff: float, report: PruneReport) -> None:
    db = agent._transcript.db
    idle = sorted(r[0] for r in await db.all(IDLE_THREADS, (cutoff, cutoff)))
    for thread_id in idle:

        async def delete(conn: SqlRunner, thread_id: str = thread_id) -> _Deletion | str:
            return await _delete_thread(conn, db.dialect, thread_id, cutoff)

        async with agent._locks.hold(thread_id):
            outcome = await _in_transaction(db, report.dry_run, delete)
        if outcome == "busy":
            report.idle_kept.append(thread_id)
        elif isinstance(outcome, _Deletion):
            report.threads_deleted.append(thread_id)
            report.checkpoints_deleted += outcome.checkpoints
            if not report.dry_run:
                _forget_branch(agent, thread_id, outcome.store_path)


async def _delete_thread(
    conn: SqlRunner, dialect: str, thread_id: str, cutoff: float
) -> _Deletion | Literal["busy", "active"]:
    """The rows `SupportAgent.delete_thread` deletes (the saver's `adelete_thread` tables
    and every transcript table), in the transaction that checks the thread is still idle and
    not busy: delete_thread takes the thread lock itself, and the check must be made under
    it. "active": used again since the idle list was read; "busy": a message in flight or a
    handoff open."""
    row = await conn.one(LAST_ACTIVE, (thread_id, thread_id))
    if row is None or row[0] is None or row[0] >= cutoff:
        return "active"
    busy = await conn.one(BUSY, (thread_id, thread_id))
    if busy and busy[0]:
        return "busy"
    branch = await conn.one("SELECT store_path FROM sg_branches WHERE thread_id = ?", (thread_id,))
    checkpoints = 0
    for table in (*CHECKPOINT_TABLES[dialect], *TABLES):
        deleted = await conn.run(f"DELETE FROM {table} WHERE thread_id = ?", (thread_id,))
        checkpoints += deleted if table == "checkpoints" else 0
    return _Deletion(checkpoints, branch[0] if branch else None)


def _forget_branch(agent: SupportAgent, thread_id: str, store_path: str | None) -> None:
    """What `SupportAgent.delete_thread` does besides the rows: a fork's open sandbox store
    is closed and its files removed."""
    deps = agent._branch_deps.pop(thread_id, None)
    if deps is not None:
        getattr(deps.store, "close", lambda: None)()
    if store_path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(store_path + suffix).unlink(missing_ok=True)


# -- checkpoints ---------------------------------------------------------------------------


@dataclass
class _Plan:
    """One namespace of a thread: the checkpoints to delete, and the kept ones whose parent
    goes, with the nearest kept ancestor each names instead."""

    namespace: str
    doomed: list[str]
    parents: dict[str, str | None]


async def _prune_checkpoints(
    agent: SupportAgent, keep: int, report: PruneReport, turns: int | None
) -> None:
    db = agent._transcript.db
    deleted = set(report.threads_deleted)
    for (thread_id,) in await db.all(CROWDED_THREADS, (keep,)):
        if thread_id in deleted:  # a dry run's deleted threads are still there
            continue
        # Planned outside the lock first: most threads of a long-lived database have nothing
        # to delete (every turn's checkpoint is kept), and need no lock or write transaction.
        if not any(p.doomed for p in await _plans(db, db.dialect, thread_id, keep, turns)):
            continue

        async def prune_one(conn: SqlRunner, thread_id: str = thread_id) -> tuple[int, int, int]:
            return await _prune_thread(conn, db.dialect, thread_id, keep, turns)

        async with agent._locks.hold(thread_id):
            counts = await _in_transaction(db, report.dry_run, prune_one)
        if counts[0]:
            report.threads_pruned += 1
            report.checkpoints_deleted += counts[0]
            report.writes_deleted += counts[1]
            report.blobs_deleted += counts[2]


async def _prune_thread(
    conn: SqlRunner, dialect: str, thread_id: str, keep: int, turns: int | None
) -> tuple[int, int, int]:
    """(checkpoints, writes, blobs) deleted from the thread."""
    totals = [0, 0, 0]
    for plan in await _plans(conn, dialect, thread_id, keep, turns):
        if not plan.doomed:
            continue
        if dialect == "postgres":
            counts = await _delete_postgres(conn, thread_id, plan)
        else:
            counts = await _delete_sqlite(conn, thread_id, plan)
        for child, parent in plan.parents.items():
            await conn.run(
                "UPDATE checkpoints SET parent_checkpoint_id = ? "
                "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
                (parent, thread_id, plan.namespace, child),
            )
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    return totals[0], totals[1], totals[2]


async def _plans(
    conn: SqlRunner, dialect: str, thread_id: str, keep: int, turns: int | None
) -> list[_Plan]:
    rows = await conn.all(
        "SELECT checkpoint_ns, checkpoint_id, parent_checkpoint_id FROM checkpoints "
        "WHERE thread_id = ? ORDER BY checkpoint_ns, checkpoint_id DESC",
        (thread_id,),
    )
    by_namespace: dict[str, list[tuple[str, str | None]]] = {}
    for namespace, checkpoint, parent in rows:
        by_namespace.setdefault(namespace, []).append((checkpoint, parent))
    turn_ends = await _turn_ends(conn, dialect, thread_id, turns)
    plans = []
    for namespace, checkpoints in by_namespace.items():
        # Checkpoint ids grow with time (LangGraph orders a thread's history by them).
        kept = {c for c, _ in checkpoints[:keep]}
        if namespace == "":  # the records name the root graph's checkpoints
            kept |= turn_ends
        parent_of = dict(checkpoints)
        doomed = [c for c, _ in checkpoints if c not in kept]
        plans.append(_Plan(namespace, doomed, _new_parents(parent_of, set(doomed))))
    return plans


async def _turn_ends(conn: SqlRunner, dialect: str, thread_id: str, turns: int | None) -> set[str]:
    """The checkpoints the thread's TurnRecords name (of its newest `turns` turns; None: all),
    and those its forks started from."""
    newest = -1 if turns is None else turns
    rows = await conn.all(
        f"SELECT {RECORD_CHECKPOINT[dialect]} FROM sg_turns WHERE thread_id = ? AND (? < 0 OR "
        "turn > (SELECT max(turn) FROM sg_turns WHERE thread_id = ?) - ?) "
        "UNION SELECT parent_checkpoint FROM sg_branches WHERE parent_thread = ?",
        (thread_id, newest, thread_id, newest, thread_id),
    )
    return {r[0] for r in rows if r[0]}


def _new_parents(parent_of: dict[str, str | None], doomed: set[str]) -> dict[str, str | None]:
    """Kept checkpoints whose parent is deleted -> their nearest kept ancestor (or None)."""
    out: dict[str, str | None] = {}
    for child, parent in parent_of.items():
        if child in doomed or parent not in doomed:
            continue
        while parent is not None and parent in doomed:
            parent = parent_of.get(parent)
        out[child] = parent
    return out


async def _delete_sqlite(conn: SqlRunner, thread_id: str, plan: _Plan) -> tuple[int, int, int]:
    # The whole checkpoint (with its channel values) is one row; pending writes hang off it.
    doomed = (thread_id, plan.namespace, json.dumps(plan.doomed))
    where = f"thread_id = ? AND checkpoint_ns = ? AND checkpoint_id {IN_LIST['sqlite']}"
    writes = await conn.run(f"DELETE FROM writes WHERE {where}", doomed)
    checkpoints = await conn.run(f"DELETE FROM checkpoints WHERE {where}", doomed)
    return checkpoints, writes, 0


async def _delete_postgres(conn: SqlRunner, thread_id: str, plan: _Plan) -> tuple[int, int, int]:
    """LangGraph's Postgres saver keeps a checkpoint's non-primitive channel values apart, one
    `checkpoint_blobs` row per (thread_id, checkpoint_ns, channel, version), shared by every
    checkpoint whose `channel_versions` names that version (its SELECT joins on exactly that).
    A blob goes when a deleted checkpoint named it and no kept one does: the versions of the
    deleted ones minus those of the kept ones (the rule of the saver's own `prune`), so
    blobs a turn is writing for a checkpoint not yet committed are never touched."""
    key = (thread_id, plan.namespace)
    where = f"thread_id = ? AND checkpoint_ns = ? AND checkpoint_id {IN_LIST['postgres']}"
    doomed = (*key, plan.doomed)
    writes = await conn.run(f"DELETE FROM checkpoint_writes WHERE {where}", doomed)
    freed = await conn.all(
        "SELECT DISTINCT v.key, v.value FROM checkpoints "
        f"CROSS JOIN LATERAL jsonb_each_text(checkpoint -> 'channel_versions') AS v WHERE {where}",
        doomed,
    )
    checkpoints = await conn.run(f"DELETE FROM checkpoints WHERE {where}", doomed)
    referenced = await conn.all(
        "SELECT DISTINCT v.key, v.value FROM checkpoints c "
        "CROSS JOIN LATERAL jsonb_each_text(c.checkpoint -> 'channel_versions') AS v "
        "WHERE c.thread_id = ? AND c.checkpoint_ns = ?",
        key,
    )
    blobs = 0
    for channel, versions in _unreferenced(freed, referenced).items():
        blobs += await conn.run(
            "DELETE FROM checkpoint_blobs WHERE thread_id = ? AND checkpoint_ns = ? "
            "AND channel = ? AND version = ANY(?)",
            (*key, channel, versions),
        )
    return checkpoints, writes, blobs


def _unreferenced(
    freed: Iterable[Sequence[Any]], referenced: Iterable[Sequence[Any]]
) -> dict[str, list[str]]:
    """(channel, version) pairs a deleted checkpoint named and no kept one does, by channel."""
    kept = {(r[0], r[1]) for r in referenced}
    out: dict[str, list[str]] = {}
    for channel, version in freed:
        if (channel, version) not in kept:
            out.setdefault(channel, []).append(version)
    return out


# -- shared --------------------------------------------------------------------------------


async def _in_transaction(db: SqlDb, dry_run: bool, work: Callable[[SqlRunner], Awaitable[T]]) -> T:
    """`work(conn)` in one transaction, rolled back on a dry run; what it returned."""
    result: T
    try:
        async with db.transaction() as conn:
            result = await work(conn)
            if dry_run:
                raise _RollBack
    except _RollBack:
        pass
    return result


async def conversation_bytes(db: SqlDb) -> int | None:
    """SQLite: the bytes of the database's pages in use (freed pages are reused, the file
    does not shrink). None on Postgres (the module docstring says why)."""
    if db.dialect != "sqlite":
        return None
    pages, free, size = [
        int((await db.one(f"PRAGMA {name}") or (0,))[0])
        for name in ("page_count", "freelist_count", "page_size")
    ]
    return (pages - free) * size
