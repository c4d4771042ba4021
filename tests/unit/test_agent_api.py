"""SupportAgent's public methods, in-process on the shared agent: what the server, the CLI,
replay and evals call instead of reaching into the transcript, graph, locks or deps."""

from __future__ import annotations

import asyncio
import time

import pytest

from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.agent import (
    InvalidMessage,
    MessageTooLong,
    ReplayError,
    SupportAgent,
    TurnEvent,
)


async def test_an_over_long_message_is_refused_with_the_http_wording_and_nothing_is_kept(
    agent: SupportAgent, thread: str
) -> None:
    limit = agent.settings.max_message_chars
    await agent.send(thread, "Where is my order SG-10002?")
    before = await agent.history(thread)
    state = await agent.state(thread)
    with pytest.raises(MessageTooLong, match=f"^message longer than {limit} characters$"):
        await agent.send(thread, "x" * (limit + 1))
    # The same limit for every entry point: a human agent's reply and a fork's message too.
    with pytest.raises(InvalidMessage, match="longer than"):
        agent.validate("y" * (limit + 1))
    assert await agent.history(thread) == before
    assert await agent.turn_count(thread) == 1
    assert await agent.state(thread) == state
    # Exactly at the limit is still a message.
    assert agent.validate("z" * limit) == "z" * limit


async def test_threads_are_created_described_and_counted(agent: SupportAgent, thread: str) -> None:
    assert await agent.thread_info(thread) is None
    assert not await agent.thread_exists(thread)
    info = await agent.create_thread(thread, "key-1", {"channel": "web"})
    assert info["owner"] == "key-1" and info["metadata"] == {"channel": "web"}
    assert await agent.thread_info(thread) == info
    assert await agent.thread_exists(thread)
    assert await agent.turn_count(thread) == 0

    await agent.send(thread, "hello")
    await agent.send(thread, "Where is my order SG-10002?")
    assert await agent.turn_count(thread) == 2
    listed = {t["thread_id"]: t for t in await agent.threads(limit=1000)}
    assert listed[thread]["turns"] == 2 and listed[thread]["last_intent"] == "order_tracking"
    # Newest first: the thread just used is at the top.
    assert (await agent.threads(limit=1))[0]["thread_id"] == thread

    # Created without an owner (the CLI's way) and without metadata.
    other = f"{thread}-cli"
    assert (await agent.create_thread(other, None, None))["owner"] is None


async def test_a_handoff_is_listed_and_claimed_once_it_exists(
    agent: SupportAgent, thread: str
) -> None:
    assert await agent.claim_handoff(thread, "agent-7") is False  # nothing to claim yet
    await agent.send(thread, "I want to speak to a real person")
    queued = {h["thread_id"]: h for h in await agent.handoffs()}
    assert queued[thread]["status"] == "open" and queued[thread]["claimed_by"] is None
    assert await agent.claim_handoff(thread, "agent-7") is True
    queued = {h["thread_id"]: h for h in await agent.handoffs()}
    assert queued[thread]["status"] == "claimed" and queued[thread]["claimed_by"] == "agent-7"
    # Released to the bot: the thread leaves the queue and cannot be claimed any more.
    await agent.release(thread)
    assert thread not in {h["thread_id"] for h in await agent.handoffs()}
    assert await agent.claim_handoff(thread, "agent-7") is False


async def test_the_snapshot_shows_the_checkpoint_and_a_waiting_handoff(
    agent: SupportAgent, thread: str
) -> None:
    record = await agent.send(thread, "I want to speak to a real person")
    snapshot = await agent.snapshot(thread)
    assert snapshot.config["configurable"]["checkpoint_id"] == record.checkpoint_id
    assert snapshot.values["turn"] == 1
    assert snapshot.interrupts and snapshot.interrupts[0].value == await agent.pending_handoff(
        thread
    )


async def test_busy_while_a_turn_runs_on_the_thread(agent: SupportAgent, thread: str) -> None:
    assert not agent.busy(thread)
    seen: list[bool] = []

    async def sink(kind: str, data: dict) -> None:  # type: ignore[type-arg]
        if kind == "node":
            seen.append(agent.busy(thread))

    await agent.send(thread, "hello", on_event=sink)
    assert seen and all(seen)
    assert not agent.busy(thread)


async def test_health_reports_each_dependency(agent: SupportAgent) -> None:
    assert await agent.health() == {"checkpointer": "ok", "store": "ok", "kb": "ok"}


async def test_a_streamed_turn_yields_node_events_then_its_record(
    agent: SupportAgent, thread: str
) -> None:
    events = [e async for e in agent.stream(thread, "Where is my order SG-10002?")]
    kinds = [e.kind for e in events]
    assert kinds[-1] == "turn" and kinds.count("turn") == 1
    record = events[-1].data
    assert isinstance(record, TurnRecord)
    # Every node of the record's path was announced, in order, with its timing and update.
    nodes = [e.data for e in events if e.kind == "node"]
    assert [n["name"] for n in nodes] == record.path
    assert all(isinstance(n["ms"], float) and "update" in n for n in nodes)
    (kept,) = await agent.history(thread)
    assert (kept.turn, kept.reply, kept.checkpoint_id) == (1, record.reply, record.checkpoint_id)


async def test_a_stream_left_early_still_finishes_and_keeps_its_turn(
    agent: SupportAgent, thread: str
) -> None:
    accounted: list[TurnRecord] = []
    stream = agent.stream(thread, "Where is my order SG-10002?", on_turn=accounted.append)
    first = await anext(stream)
    assert isinstance(first, TurnEvent)
    await stream.aclose()  # the caller went away
    (kept,) = await agent.history(thread)
    assert kept.intent == "order_tracking"
    # The server counts and logs the turn through on_turn: it still hears of it.
    assert [r.turn for r in accounted] == [kept.turn]


async def test_a_streamed_invalid_message_raises_from_the_iteration(
    agent: SupportAgent, thread: str
) -> None:
    with pytest.raises(InvalidMessage, match="empty"):
        async for _ in agent.stream(thread, "   "):
            pass
    assert await agent.turn_count(thread) == 0


async def test_the_clock_is_what_turns_see(agent: SupportAgent, thread: str) -> None:
    moment = 1_800_000_000.0
    agent.set_clock(lambda: moment)
    try:
        await agent.send(thread, "hello")
        assert (await agent.state(thread))["now"] == moment
    finally:
        agent.set_clock(time.time)


async def test_timeline_and_replay_history_of_a_thread(agent: SupportAgent, thread: str) -> None:
    assert await agent.timeline(thread) is None
    with pytest.raises(ReplayError, match="not found"):
        await agent.replay_history(thread)
    first = await agent.send(thread, "Where is my order SG-10002?")
    timeline = await agent.timeline(thread)
    assert timeline is not None
    (turn,) = timeline["turns"]
    assert [n["node"] for n in turn["nodes"]] == first.path
    assert turn["checkpoint_id"] == first.checkpoint_id
    history = await agent.replay_history(thread)
    assert [r.checkpoint_id for r in history.records] == [first.checkpoint_id]
    assert history.clocks == [(await agent.state(thread))["now"]]


async def test_the_store_is_the_one_the_tools_act_on(agent: SupportAgent, thread: str) -> None:
    await asyncio.to_thread(agent.warm, False)  # models loaded, no turn needed
    before = len(agent.store.writes_log())  # type: ignore[attr-defined]
    await agent.send(thread, "Please cancel my order SG-10001")
    await agent.send(thread, "anna.schmidt@example.com")
    await agent.send(thread, "yes")
    writes = agent.store.writes_log()[before:]  # type: ignore[attr-defined]
    assert "cancel_order" in [w["action"] for w in writes]
    order = await agent.store.get_order("SG-10001")
    assert order is not None and order.status == "cancelled"
