"""The conversation runtime on each database (SQLite, the embedded default, and PostgreSQL):
checkpoints, transcript, handoff queue, messages in flight, idempotent messages, deletion,
thread locks, and whole conversations through SupportAgent, shared by two workers.

The Postgres cases run on a fresh database of the real server (tests/pg.py); the same
assertions hold for both backends.
"""

from __future__ import annotations

import asyncio
import operator
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import psycopg
import pytest
from langgraph.graph import END, START, StateGraph
from typer.testing import CliRunner

from supportgraph.cli import app
from supportgraph.config import Settings
from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.agent import SupportAgent
from supportgraph.runtime.databases import Conversations, open_conversations
from supportgraph.runtime.locks import ThreadLocks, advisory_key
from supportgraph.runtime.transcript import Transcript
from tests.pg import fresh_database

BACKENDS = ["sqlite", "postgres"]
TRANSCRIPT_TABLES = {
    "sg_turns",
    "sg_threads",
    "sg_handoffs",
    "sg_thread_meta",
    "sg_steps",
    "sg_branches",
    "sg_inflight",
    "sg_message_ids",
}
CHECKPOINT_TABLES = {
    "sqlite": {"checkpoints", "writes"},
    "postgres": {"checkpoints", "checkpoint_blobs", "checkpoint_writes"},
}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Two workers' settings: on SQLite they share the file with process locks on (what
    `serve --workers N` sets); Postgres always locks across processes."""
    if backend == "postgres":
        return Settings(data_dir=tmp_path, database_url=request.getfixturevalue("pg_url"))
    return Settings(data_dir=tmp_path, process_locks=True)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Conversations]:
    async with open_conversations(settings) as opened:
        yield opened


def record(thread_id: str, turn: int, **fields: Any) -> TurnRecord:
    return TurnRecord(
        thread_id=thread_id,
        turn=turn,
        language="en",
        reply_language="en",
        intent=fields.pop("intent", "greeting"),
        confidence=0.9,
        customer_text=f"message {turn}",
        created_at=time.time(),
        **fields,
    )


class Chat(TypedDict):
    messages: Annotated[list[str], operator.add]


def tiny_graph(checkpointer: Any) -> Any:
    """A one-node LangGraph graph: each run appends the message and a reply to the state."""
    graph = StateGraph(Chat)
    graph.add_node("reply", lambda state: {"messages": [f"re: {state['messages'][-1]}"]})
    graph.add_edge(START, "reply")
    graph.add_edge("reply", END)
    return graph.compile(checkpointer=checkpointer)


def config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


async def thread_rows(transcript: Transcript, thread_id: str) -> dict[str, int]:
    """The thread's row count in every table of the database that has a thread_id column."""
    if transcript.dialect == "sqlite":
        names = [
            r[0]
            for r in await transcript.db.all("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        tables = [
            n
            for n in names
            if any(c[1] == "thread_id" for c in await transcript.db.all(f"PRAGMA table_info({n})"))
        ]
    else:
        tables = [
            r[0]
            for r in await transcript.db.all(
                "SELECT table_name FROM information_schema.columns "
                "WHERE column_name = 'thread_id' AND table_schema = current_schema()"
            )
        ]
    counts = {}
    for table in tables:
        row = await transcript.db.one(
            f"SELECT count(*) FROM {table} WHERE thread_id = ?", (thread_id,)
        )
        counts[table] = int(row[0]) if row else 0
    return counts


# -- checkpoints ----------------------------------------------------------------------------


async def test_checkpoints_are_saved_and_read_back_after_reopening(settings: Settings) -> None:
    async with open_conversations(settings) as db:
        graph = tiny_graph(db.checkpointer)
        await graph.ainvoke({"messages": ["hi"]}, config("c1"))
        await graph.ainvoke({"messages": ["where is my order"]}, config("c1"))
    async with open_conversations(settings) as db:
        state = await tiny_graph(db.checkpointer).aget_state(config("c1"))
        assert state.values["messages"] == [
            "hi",
            "re: hi",
            "where is my order",
            "re: where is my order",
        ]
        assert (await tiny_graph(db.checkpointer).aget_state(config("other"))).values == {}


# -- the transcript ---------------------------------------------------------------------------


async def test_turns_are_recorded_in_order_with_their_steps_and_thread_summary(
    db: Conversations,
) -> None:
    t = db.transcript
    await t.commit_turn(
        record("r1", 1), customer_id="C1001", steps=[{"node": "understand", "ms": 1.5}]
    )
    await t.commit_turn(record("r1", 2, intent="order_tracking"), steps=[{"node": "act", "é": "ü"}])
    assert [(r.turn, r.intent) for r in await t.records("r1")] == [
        (1, "greeting"),
        (2, "order_tracking"),
    ]
    assert await t.steps("r1") == {
        1: [{"node": "understand", "ms": 1.5}],
        2: [{"node": "act", "é": "ü"}],
    }
    assert await t.last_turn("r1") == 2
    (summary,) = [s for s in await t.threads() if s["thread_id"] == "r1"]
    # The customer stays known after a turn that names nobody; turns never go backwards.
    assert (summary["turns"], summary["last_intent"], summary["customer_id"]) == (
        2,
        "order_tracking",
        "C1001",
    )
    await t.commit_turn(record("r1", 1))  # a late commit of an earlier turn number
    assert (await t.threads())[0]["turns"] == 2
    assert await t.records("unknown") == [] and await t.last_turn("unknown") == 0


async def test_a_failed_commit_writes_nothing(db: Conversations) -> None:
    t = db.transcript
    await t.begin_turn("a1", 1, "customer", {"text": "hi"}, None, time.time())
    with pytest.raises(AttributeError):
        # The handoff summary must be a dict: the failure comes after the record's INSERT.
        await t.commit_turn(record("a1", 1), steps=[{"node": "x"}], handoff=("open", ["no"]))
    assert await t.records("a1") == []
    assert await t.steps("a1") == {}
    assert await t.threads() == []
    assert [i["turn"] for i in await t.inflight("a1")] == [1]  # still to recover


async def test_the_handoff_queue_opens_claims_and_closes(db: Conversations) -> None:
    t = db.transcript
    await t.commit_turn(
        record("h1", 1), handoff=("open", {"priority": "medium", "reason": "asked"})
    )
    await t.open_handoff("h2", {"priority": "critical", "reason": "legal", "note": "ça"})
    queue = await t.handoffs()
    assert [(h["thread_id"], h["status"]) for h in queue] == [("h2", "open"), ("h1", "open")]
    assert queue[0]["summary"] == {"priority": "critical", "reason": "legal", "note": "ça"}
    await t.mark_handoff("h1", "claimed", "ana")
    await t.mark_handoff("h1", "active")  # a status change keeps who claimed it
    (h1,) = [h for h in await t.handoffs() if h["thread_id"] == "h1"]
    assert (h1["status"], h1["claimed_by"]) == ("active", "ana")
    await t.close_handoff("h2")
    await t.commit_turn(record("h1", 2, author="system"), handoff=("close", None))
    assert await t.handoffs() == []


async def test_a_message_in_flight_is_found_after_a_restart_and_recovered_once(
    settings: Settings,
) -> None:
    async with open_conversations(settings) as db:
        await db.transcript.begin_turn(
            "f1", 1, "customer", {"text": "cancel it", "now": 5.0}, "m-1", 12.5
        )
    async with open_conversations(settings) as db:  # the process died; a new one starts
        t = db.transcript
        (item,) = await t.inflight()
        assert item == {
            "thread_id": "f1",
            "turn": 1,
            "kind": "customer",
            "payload": {"text": "cancel it", "now": 5.0},
            "client_message_id": "m-1",
            "received_at": 12.5,
        }
        await t.commit_turn(
            record("f1", 1, recovered=True), client_message_id="m-1", recovered=True
        )
        (kept,) = await t.inflight("f1")  # kept, marked, for the customer's retry
        assert kept["kind"] == "recovered"
        taken = await t.take_recovered("f1", int(kept["payload"]["seq"]))
        assert taken is not None and taken.recovered and taken.turn == 1
        assert await t.inflight() == []
        # Handed out once: the mark is gone, the record stays in the transcript.
        assert await t.take_recovered("f1", int(kept["payload"]["seq"])) is not None
        assert [r.turn for r in await t.records("f1")] == [1]


async def test_a_client_message_id_keeps_its_first_record(db: Conversations) -> None:
    t = db.transcript
    await t.begin_turn("d1", 1, "customer", {"text": "a"}, "key-1", time.time())
    await t.begin_turn("d1", 1, "customer", {"text": "b"}, "key-1", time.time())  # replaces
    assert [i["payload"] for i in await t.inflight("d1")] == [{"text": "b"}]
    await t.commit_turn(record("d1", 1, reply="first"), client_message_id="key-1")
    await t.commit_turn(record("d1", 2, reply="second"), client_message_id="key-1")
    first = await t.record_for_message("d1", "key-1")
    assert first is not None and (first.turn, first.reply) == (1, "first")
    assert await t.record_for_message("d1", "key-2") is None
    assert await t.record_for_message("other", "key-1") is None


async def test_thread_metadata_and_branches(db: Conversations) -> None:
    t = db.transcript
    await t.create_thread("m1", "key-a", {"shop": "eu", "name": "Zoë"})
    info = await t.thread_meta("m1")
    assert info is not None and (info["owner"], info["metadata"]) == (
        "key-a",
        {"shop": "eu", "name": "Zoë"},
    )
    assert await t.thread_meta("nope") is None
    for turn in (1, 2, 3):
        await t.commit_turn(record("m1", turn), steps=[{"turn": turn}])
    branch = {
        "thread_id": "m1-fork",
        "parent_thread": "m1",
        "parent_checkpoint": "cp-2",
        "from_turn": 3,
        "store_path": "/tmp/sandbox.db",
        "origin_started_at": 100.5,
        "clock_offset": -3.25,
        "created_at": time.time(),
    }
    await t.create_branch(branch)
    assert await t.branch("m1-fork") == branch
    assert await t.branches_of("m1") == [branch]
    assert await t.copy_turns("m1", "m1-fork", 3) == 2
    copied = await t.records("m1-fork")
    assert [(r.thread_id, r.turn) for r in copied] == [("m1-fork", 1), ("m1-fork", 2)]
    assert await t.steps("m1-fork") == {1: [{"turn": 1}], 2: [{"turn": 2}]}


async def test_deleting_a_thread_leaves_no_row_in_any_table(
    db: Conversations, backend: str
) -> None:
    t = db.transcript
    graph = tiny_graph(db.checkpointer)
    for thread in ("gone", "kept"):
        await graph.ainvoke({"messages": ["my email is ana@example.com"]}, config(thread))
        await graph.ainvoke({"messages": ["thanks"]}, config(thread))
        await t.create_thread(thread, "key", {})
        await t.commit_turn(
            record(thread, 1), "C1001", [{"node": "x"}], ("open", {"priority": "low"}), "msg-1"
        )
        await t.begin_turn(thread, 2, "customer", {"text": "next"}, None, time.time())
        await t.create_branch(
            {
                "thread_id": thread,
                "parent_thread": "origin",
                "parent_checkpoint": None,
                "from_turn": 1,
                "store_path": "x.db",
                "origin_started_at": 0.0,
                "clock_offset": 0.0,
                "created_at": 0.0,
            }
        )
    before = await thread_rows(t, "gone")
    assert set(before) >= TRANSCRIPT_TABLES | CHECKPOINT_TABLES[backend]
    assert all(before[table] > 0 for table in TRANSCRIPT_TABLES | {"checkpoints"})

    await db.checkpointer.adelete_thread("gone")
    await t.delete_thread("gone")

    assert {table: n for table, n in (await thread_rows(t, "gone")).items() if n} == {}
    assert await thread_rows(t, "kept") == before  # the other thread is untouched
    found = {thread async for thread, _ in t.scan("sg_turns", "record")}
    assert found == {"kept"}
    assert await t.checkpoint_wal() is True  # the deleted rows' bytes are reclaimed


# -- thread locks ------------------------------------------------------------------------


async def occupy(locks: ThreadLocks, thread_id: str, name: str, log: list[str]) -> None:
    async with locks.hold(thread_id):
        log.append(f"{name} starts")
        await asyncio.sleep(0.05)
        log.append(f"{name} ends")


async def test_turns_on_one_thread_run_one_at_a_time(db: Conversations) -> None:
    log: list[str] = []
    await asyncio.gather(occupy(db.locks, "l1", "a", log), occupy(db.locks, "l1", "b", log))
    assert log == ["a starts", "a ends", "b starts", "b ends"]


async def test_different_threads_run_at_the_same_time(settings: Settings) -> None:
    async with open_conversations(settings) as one, open_conversations(settings) as two:
        inside = {name: asyncio.Event() for name in ("x", "y", "z")}

        async def turn(locks: ThreadLocks, thread_id: str, me: str, other: str) -> None:
            async with locks.hold(thread_id):
                inside[me].set()
                # Only holders running at the same time both get past this.
                await asyncio.wait_for(inside[other].wait(), timeout=5)

        await asyncio.gather(
            turn(one.locks, "p1", "x", "y"),
            turn(one.locks, "p2", "y", "z"),
            turn(two.locks, "p3", "z", "x"),
        )


async def test_two_workers_run_one_thread_one_turn_at_a_time(settings: Settings) -> None:
    async with open_conversations(settings) as one, open_conversations(settings) as two:
        log: list[str] = []
        await asyncio.gather(occupy(one.locks, "w1", "a", log), occupy(two.locks, "w1", "b", log))
        assert log in (
            ["a starts", "a ends", "b starts", "b ends"],
            ["b starts", "b ends", "a starts", "a ends"],
        )


async def waiting_for_advisory_lock(url: str, key: int) -> None:
    """Until a session waits (not granted) for the advisory lock `key`."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for _ in range(500):
            cur = await conn.execute(
                # A bigint key shows as its high and low 32 bits (objsubid 1).
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1",
                ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
            )
            row = await cur.fetchone()
            if row and row[0]:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("nobody ever waited for the lock")


async def test_postgres_waiters_of_several_workers_get_a_thread_in_arrival_order(
    pg_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=pg_url)
    async with open_conversations(settings) as one, open_conversations(settings) as two:
        log: list[str] = []
        release = asyncio.Event()

        async def first() -> None:
            async with one.locks.hold("o1"):
                log.append("first")
                await release.wait()

        holder = asyncio.create_task(first())
        while not log:
            await asyncio.sleep(0.01)
        second = asyncio.create_task(occupy(two.locks, "o1", "second", log))
        await waiting_for_advisory_lock(pg_url, advisory_key("o1"))  # queued in the server
        third = asyncio.create_task(occupy(one.locks, "o1", "third", log))  # after it
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(holder, second, third)
        assert log == ["first", "second starts", "second ends", "third starts", "third ends"]


async def test_postgres_a_dead_worker_never_blocks_a_thread(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=pg_url)
    async with open_conversations(settings) as one, open_conversations(settings) as two:
        held, dead = asyncio.Event(), asyncio.Event()

        async def dying_turn() -> None:
            async with one.locks.hold("k1"):
                held.set()
                await dead.wait()

        turn = asyncio.create_task(dying_turn())
        await held.wait()
        # The worker's connection drops (its process died, or the network went away).
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as admin:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND granted AND pid <> pg_backend_pid()"
            )
        log: list[str] = []
        await asyncio.wait_for(occupy(two.locks, "k1", "other worker", log), timeout=10)
        assert log == ["other worker starts", "other worker ends"]
        dead.set()
        await turn  # the first worker's turn still ends cleanly: its lock went with it


# -- whole conversations through SupportAgent ----------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def agent_settings(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Settings]:
    """One database per backend for this module's agents (the fitted models of `data_dir`)."""
    if request.param == "sqlite":
        yield Settings(data_dir=data_dir)
        return
    with fresh_database() as url:
        yield Settings(data_dir=data_dir, database_url=url)


async def test_two_workers_share_a_conversation_and_finish_each_others_turns(
    agent_settings: Settings,
) -> None:
    thread = f"shared-{agent_settings.postgres_url() is not None}-{time.time_ns()}"
    async with SupportAgent.open(agent_settings) as one:
        first = await one.send(thread, "Hello!", client_message_id="hello-1")
        again = await one.send(thread, "Hello!", client_message_id="hello-1")
        assert again.model_dump() == first.model_dump()  # the first record; nothing ran twice
        assert await one.turn_count(thread) == 1
        await one.send(thread, "What is your return policy?")
        # The first worker dies after keeping the third message, before running its turn.
        payload = {"text": "How long does shipping take?", "now": time.time(), "queued": False}
        await one._transcript.begin_turn(thread, 3, "customer", payload, None, time.time())

        async with SupportAgent.open(agent_settings) as two:  # a second worker starts
            history = await two.history(thread)
            assert [r.turn for r in history] == [1, 2, 3]
            assert history[2].recovered and history[2].customer_text == payload["text"]
            assert (await two.state(thread))["turn"] == 3  # the checkpoint the turn wrote
            fourth = await two.send(thread, "Thanks, bye")
            assert fourth.turn == 4
        # The first worker sees what the second wrote.
        assert [r.turn for r in await one.history(thread)] == [1, 2, 3, 4]
        assert (await one.state(thread))["turn"] == 4
        assert (await one.health())["checkpointer"] == "ok"

        await one.delete_thread(thread)
        assert {t: n for t, n in (await thread_rows(one._transcript, thread)).items() if n} == {}
        assert not await one.thread_exists(thread)


# -- supportgraph db upgrade / status ------------------------------------------------------


def test_db_upgrade_applies_every_component_once_and_status_reports_versions(pg_url: str) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade", "--database-url", pg_url])
    assert first.exit_code == 0, first.output
    assert "transcript: applied 1 transcript tables" in first.output
    assert "checkpointer: applied LangGraph migrations 1-" in first.output
    second = runner.invoke(app, ["db", "upgrade"], env={"SUPPORTGRAPH_DATABASE_URL": pg_url})
    assert second.exit_code == 0, second.output
    assert second.output.strip() == "up to date"
    status = runner.invoke(app, ["db", "status", "--database-url", pg_url])
    assert status.exit_code == 0, status.output
    lines = {line.split()[0]: line for line in status.output.splitlines()}
    assert lines["transcript"].split()[1] == "1/1"
    assert lines.keys() >= {"transcript", "checkpointer"}
    assert all(line.endswith("up to date") for line in lines.values())


def test_db_commands_need_a_postgres_url() -> None:
    runner = CliRunner()
    for command in ("upgrade", "status"):
        result = runner.invoke(app, ["db", command], env={"SUPPORTGRAPH_DATABASE_URL": None})
        assert result.exit_code == 2
        assert "SUPPORTGRAPH_DATABASE_URL" in result.output


def test_two_hosts_migrating_a_fresh_database_together_both_finish(pg_url: str) -> None:
    """LangGraph's setup creates indexes CONCURRENTLY, which waits for every older transaction:
    a second process blocked in pg_advisory_lock was one, and both waited for ever."""
    import threading

    from supportgraph.runtime.databases import upgrade

    failures: list[BaseException] = []

    def migrate() -> None:
        try:
            upgrade(pg_url)
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    hosts = [threading.Thread(target=migrate, daemon=True) for _ in range(2)]
    for host in hosts:
        host.start()
    for host in hosts:
        host.join(timeout=60)
    assert not any(host.is_alive() for host in hosts), "a migration hung"
    assert failures == []
    with psycopg.connect(pg_url) as conn:
        versions = dict(
            conn.execute("SELECT component, max(version) FROM sg_migrations GROUP BY 1")
        )
    assert {"store", "transcript"} <= set(versions)
