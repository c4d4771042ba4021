"""Retention (`SupportAgent.prune`, `supportgraph maintenance prune`) on SQLite and PostgreSQL:
what a pruned thread keeps (each turn's checkpoint and the newest K, their writes and blobs),
that replay, the timeline and forks still work on it, which idle threads go from every table
and which stay, and that a dry run deletes nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from supportgraph.cli import app
from supportgraph.config import Settings
from supportgraph.runtime.agent import SupportAgent

# Whole conversations through the agent, like the END_TO_END_MODULES of conftest.py.
pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", "postgres"]
DAY = 86_400.0
LONG_AGO = time.time() - 40 * DAY
# Chat-only turns (no question signature, so no repetition handoff) and order questions, each
# order asked about once: 40 turns that all get a bot answer, with no KB search to warm up.
ORDERS = [f"Where is my order SG-1000{n}?" for n in range(1, 10)]


def message(turn: int) -> str:
    if turn % 4 == 2 and turn // 4 < len(ORDERS):
        return ORDERS[turn // 4]
    return ("Hi", "thanks", "Hello", "thank you, bye")[turn % 4]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, data_dir: Path
) -> Settings:
    """A fresh data dir sharing the session's fitted models; on Postgres, a fresh database
    for the conversations (the store stays SQLite: forks copy it into a sandbox)."""
    (data_dir / "models").mkdir(exist_ok=True)
    (tmp_path / "models").symlink_to(data_dir / "models", target_is_directory=True)
    if backend == "postgres":
        url = request.getfixturevalue("pg_url")
        return Settings(data_dir=tmp_path, database_url=url, store_backend="sqlite")
    return Settings(data_dir=tmp_path)


def with_policy(settings: Settings, **policy: Any) -> Settings:
    return settings.model_copy(update=policy)


def config(thread_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    conf = {"thread_id": thread_id, "checkpoint_ns": ""}
    return {
        "configurable": conf if checkpoint_id is None else {**conf, "checkpoint_id": checkpoint_id}
    }


async def checkpoint_ids(agent: SupportAgent, thread_id: str) -> list[str]:
    """The thread's checkpoints in the database, newest first."""
    rows = await agent._transcript.db.all(
        "SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? ORDER BY checkpoint_id DESC",
        (thread_id,),
    )
    return [r[0] for r in rows]


async def write_rows(agent: SupportAgent, thread_id: str) -> dict[str, int]:
    """Pending-write rows of the thread, by checkpoint."""
    table = "writes" if agent._transcript.dialect == "sqlite" else "checkpoint_writes"
    rows = await agent._transcript.db.all(
        f"SELECT checkpoint_id, COUNT(*) FROM {table} WHERE thread_id = ? GROUP BY checkpoint_id",
        (thread_id,),
    )
    return {r[0]: int(r[1]) for r in rows}


async def loaded(agent: SupportAgent, thread_id: str, checkpoint_id: str) -> Any:
    """A checkpoint as LangGraph loads it: channel values (on Postgres, read from the blobs)
    and pending writes."""
    found = await agent._graph.checkpointer.aget_tuple(config(thread_id, checkpoint_id))
    assert found is not None, checkpoint_id
    return found.checkpoint["channel_values"], found.pending_writes


async def thread_rows(agent: SupportAgent, thread_id: str) -> dict[str, int]:
    """The thread's rows in every table of the database that has a thread_id column (tables
    where it has none left out)."""
    db = agent._transcript.db
    if db.dialect == "sqlite":
        names = [r[0] for r in await db.all("SELECT name FROM sqlite_master WHERE type = 'table'")]
        tables = [
            n
            for n in names
            if any(c[1] == "thread_id" for c in await db.all(f"PRAGMA table_info({n})"))
        ]
    else:
        rows = await db.all(
            "SELECT table_name FROM information_schema.columns "
            "WHERE column_name = 'thread_id' AND table_schema = current_schema()"
        )
        tables = [r[0] for r in rows]
    counts = {}
    for table in tables:
        row = await db.one(f"SELECT COUNT(*) FROM {table} WHERE thread_id = ?", (thread_id,))
        if row and row[0]:
            counts[table] = int(row[0])
    return counts


async def touch(agent: SupportAgent, thread_id: str) -> None:
    """State written between turns, as a LangGraph client's update_state writes it: a
    checkpoint no turn ends. Slots (a dict: a blob on Postgres) and persona, unchanged."""
    state = await agent.state(thread_id)
    values = {"slots": state.get("slots", {}), "persona": state.get("persona", "default")}
    await agent.update_state(thread_id, values, as_node="respond")


async def age(agent: SupportAgent, *threads: str) -> None:
    """Make threads look untouched for 40 days (their last turn, or their creation)."""
    for thread_id in threads:
        await agent._transcript.run(
            "UPDATE sg_threads SET updated_at = ? WHERE thread_id = ?", (LONG_AGO, thread_id)
        )
        await agent._transcript.run(
            "UPDATE sg_thread_meta SET created_at = ? WHERE thread_id = ?", (LONG_AGO, thread_id)
        )


async def test_a_pruned_thread_keeps_each_turns_checkpoint_and_the_newest_k(
    settings: Settings, backend: str
) -> None:
    thread = "long"
    async with SupportAgent.open(with_policy(settings, keep_checkpoints=5)) as agent:
        for turn in range(1, 41):
            record = await agent.send(thread, message(turn))
            assert record.error is None and record.reply, (turn, record)
            if turn % 8 == 0:
                # Two updates in a row: the second one's writes land on the first's checkpoint.
                await touch(agent, thread)
                await touch(agent, thread)
        records = await agent.history(thread)
        turn_ends = {r.checkpoint_id for r in records}
        before = await checkpoint_ids(agent, thread)
        writes_before = await write_rows(agent, thread)
        replay_before = await agent.replay_history(thread)
        expected = turn_ends | set(before[:5])
        assert len(records) == 40 and len(turn_ends) == 40 and None not in turn_ends
        assert len(before) == 50 and len(expected) == 42  # the two newest are the last touches
        kept_before = {c: await loaded(agent, thread, c) for c in expected}

        report = await agent.prune()

        after = await checkpoint_ids(agent, thread)
        assert set(after) == expected
        assert (report.checkpoints_deleted, report.threads_pruned) == (8, 1)
        assert report.threads_deleted == [] and not report.dry_run
        # Writes go with their checkpoint (each doomed first touch had the second's); the kept
        # checkpoints load exactly as before (on Postgres: every blob they name is still there).
        writes_after = await write_rows(agent, thread)
        assert writes_after == {c: n for c, n in writes_before.items() if c in expected}
        assert report.writes_deleted == sum(writes_before.values()) - sum(writes_after.values())
        assert report.writes_deleted > 0
        for checkpoint, values in kept_before.items():
            assert await loaded(agent, thread, checkpoint) == values
        if backend == "postgres":
            assert report.blobs_deleted > 0
            orphans = await agent._transcript.db.one(
                "SELECT COUNT(*) FROM checkpoint_blobs b WHERE b.thread_id = ? AND NOT EXISTS ("
                "SELECT 1 FROM checkpoints c WHERE c.thread_id = b.thread_id "
                "AND c.checkpoint_ns = b.checkpoint_ns "
                "AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)",
                (thread,),
            )
            assert orphans == (0,)
        else:
            assert report.bytes_after is not None and report.bytes_before is not None
            assert report.bytes_after < report.bytes_before
        # The chain of parents names only kept checkpoints.
        snapshots = await agent.snapshots(thread)
        for snapshot in snapshots:
            parent = (snapshot.parent_config or {}).get("configurable", {}).get("checkpoint_id")
            assert parent is None or parent in expected

        # Replay, timeline and forks work as before on the pruned thread.
        replay_after = await agent.replay_history(thread)
        assert replay_after.clocks == replay_before.clocks
        timeline = await agent.timeline(thread)
        assert timeline is not None
        assert [t["turn"] for t in timeline["turns"]] == list(range(1, 41))
        assert {c["checkpoint_id"] for c in timeline["checkpoints"]} == expected
        fork = await agent.fork(thread, 2, "thanks")
        assert fork.parent_checkpoint == records[0].checkpoint_id
        assert fork.record.error is None and fork.record.turn == 2 and fork.record.reply
        branch = await agent.timeline(fork.branch_id)
        assert branch is not None and [t["turn"] for t in branch["turns"]] == [1, 2]
        # The thread still answers, and the next prune has nothing left to do.
        record = await agent.send(thread, "Hello")
        assert record.turn == 41 and record.error is None and record.reply
        again = await agent.prune()
        assert (again.checkpoints_deleted, again.threads_pruned) == (0, 0)
        records = await agent.history(thread)

    # Bounded: turn checkpoints of the newest 10 turns only (and the newest 5, and a fork's).
    policy = with_policy(settings, keep_checkpoints=5, keep_turn_checkpoints=10)
    async with SupportAgent.open(policy) as agent:
        before = await checkpoint_ids(agent, thread)
        recent = {r.checkpoint_id for r in records if r.turn > 41 - 10}
        expected = set(before[:5]) | recent | {records[0].checkpoint_id}
        report = await agent.prune()
        assert set(await checkpoint_ids(agent, thread)) == expected
        assert report.checkpoints_deleted == len(before) - len(expected) > 25
        record = await agent.send(thread, "Where is my order?")
        assert record.turn == 42 and record.error is None and record.reply
        timeline = await agent.timeline(thread)
        assert timeline is not None
        assert [t["turn"] for t in timeline["turns"]] == list(range(1, 43))


async def test_idle_threads_go_from_every_table_unless_a_message_or_handoff_waits(
    settings: Settings,
) -> None:
    async with SupportAgent.open(with_policy(settings, delete_idle_after_days=30)) as agent:
        await agent.send("old", "Hi")
        await agent.send("old", ORDERS[1])
        fork = await agent.fork("old", 2, "thanks")  # a fork has its own sandbox store
        branch = await agent._transcript.branch(fork.branch_id)
        assert branch is not None
        sandbox = Path(branch["store_path"])
        await agent.create_thread("old-unused", "client-1", {"source": "web"})  # never used
        handoff = await agent.send("old-handoff", "I want to talk to a human")
        assert handoff.awaiting == "human_agent"
        await agent.send("old-inflight", "Hi")
        await agent.send("recent", "Hi")
        # A message whose turn started and has not committed (what send writes first).
        now = time.time()
        payload = {"text": "hello", "now": now, "queued": False}
        await agent._transcript.begin_turn("old-inflight", 2, "customer", payload, None, now)
        await age(agent, "old", fork.branch_id, "old-unused", "old-handoff", "old-inflight")
        kept_before = {t: await thread_rows(agent, t) for t in ("old-handoff", "old-inflight")}
        for thread in ("old", fork.branch_id, "old-unused"):
            assert await thread_rows(agent, thread), thread
        assert sandbox.exists()

        report = await agent.prune()

        assert sorted(report.threads_deleted) == sorted(["old", fork.branch_id, "old-unused"])
        assert sorted(report.idle_kept) == ["old-handoff", "old-inflight"]
        for thread in report.threads_deleted:
            assert await thread_rows(agent, thread) == {}, thread
            assert not await agent.thread_exists(thread)
        assert not sandbox.exists()
        for thread, rows in kept_before.items():
            assert await thread_rows(agent, thread) == rows, thread
        assert await agent.pending_handoff("old-handoff") is not None
        assert [r.turn for r in await agent.history("recent")] == [1]
        assert (await agent.send("recent", "thanks")).turn == 2
        # Measured from a later moment, the recent thread is idle too.
        later = await agent.prune(now=time.time() + 31 * DAY)
        assert "recent" in later.threads_deleted and await thread_rows(agent, "recent") == {}


async def _populate(settings: Settings) -> None:
    async with SupportAgent.open(settings) as agent:
        for turn in range(1, 5):
            await agent.send("busy", message(turn))
            await touch(agent, "busy")
        await agent.send("quiet", "Hi")
        await age(agent, "quiet")


async def _all_rows(settings: Settings) -> dict[str, dict[str, int]]:
    async with SupportAgent.open(settings) as agent:
        return {t: await thread_rows(agent, t) for t in ("busy", "quiet")}


@pytest.fixture
def cli_env(settings: Settings) -> Iterator[dict[str, str]]:
    env = {"SUPPORTGRAPH_STORE_BACKEND": "sqlite"}
    if settings.database_url:
        env["SUPPORTGRAPH_DATABASE_URL"] = settings.database_url
    yield env


def test_a_dry_run_deletes_nothing_and_counts_what_the_run_deletes(
    settings: Settings, cli_env: dict[str, str]
) -> None:
    asyncio.run(_populate(settings))
    before = asyncio.run(_all_rows(settings))
    runner = CliRunner()
    args = ["maintenance", "prune", "--data-dir", str(settings.data_dir)]
    policy = ["--keep-checkpoints", "2", "--idle-days", "30"]

    shown = runner.invoke(app, [*args, *policy, "--dry-run"], env=cli_env)
    assert shown.exit_code == 0, shown.output
    assert "dry run: nothing deleted" in shown.output
    assert "checkpoints would be deleted" in shown.output
    dry = runner.invoke(app, [*args, *policy, "--dry-run", "--json"], env=cli_env)
    assert dry.exit_code == 0, dry.output
    assert asyncio.run(_all_rows(settings)) == before

    real = runner.invoke(app, [*args, *policy, "--json"], env=cli_env)
    assert real.exit_code == 0, real.output
    planned, done = json.loads(dry.output), json.loads(real.output)
    assert planned["dry_run"] and not done["dry_run"]
    for key in ("threads_deleted", "checkpoints_deleted", "writes_deleted", "blobs_deleted"):
        assert planned[key] == done[key], key
    # "busy": 4 turns + 4 touches, the newest 2 (the last touch and turn 4) and each turn's kept.
    assert done["threads_deleted"] == ["quiet"] and done["checkpoints_deleted"] == 3 + 1
    after = asyncio.run(_all_rows(settings))
    assert after["quiet"] == {}
    assert after["busy"]["checkpoints"] == before["busy"]["checkpoints"] - 3
