"""Checkpoints: restart persistence, serialized turns per thread, crash recovery, flat state."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from supportgraph.config import Settings
from supportgraph.domain.state import MESSAGE_WINDOW
from supportgraph.runtime.agent import SupportAgent


@pytest.fixture
def own_dir(tmp_path: Path, data_dir: Path) -> Settings:
    # A data dir of its own (restart tests), reusing the session's cached intent model.
    (data_dir / "models").mkdir(exist_ok=True)
    (tmp_path / "models").symlink_to(data_dir / "models", target_is_directory=True)
    return Settings(data_dir=tmp_path)


async def test_conversation_survives_a_restart(own_dir: Settings, agent: SupportAgent) -> None:
    async with SupportAgent.open(own_dir) as first:
        asked = await first.send("restart", "Where is my order?")
        assert asked.awaiting == "order_id"
    async with SupportAgent.open(own_dir) as second:
        answer = await second.send("restart", "SG-10002")
        assert answer.turn == 2 and answer.awaiting == "email"
        done = await second.send("restart", "anna.schmidt@example.com")
        assert "DHL4019283746" in done.reply
        assert [r.turn for r in await second.history("restart")] == [1, 2, 3]


async def test_concurrent_messages_on_one_thread_are_both_kept(
    agent: SupportAgent, thread: str
) -> None:
    a, b = await asyncio.gather(
        agent.send(thread, "how much is shipping?"), agent.send(thread, "and returns?")
    )
    assert sorted([a.turn, b.turn]) == [1, 2]
    state = await agent.state(thread)
    customer = [m["text"] for m in state["messages"] if m["role"] == "customer"]
    assert sorted(customer) == ["and returns?", "how much is shipping?"]
    assert len(await agent.history(thread)) == 2


async def test_different_threads_run_concurrently(agent: SupportAgent) -> None:
    records = await asyncio.gather(
        *(agent.send(f"par-{i}", "Where is my order?") for i in range(20))
    )
    assert all(r.awaiting == "order_id" and r.turn == 1 for r in records)


async def test_a_crash_mid_turn_leaves_the_thread_usable(
    agent: SupportAgent, thread: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await agent.send(thread, "Where is my order?")

    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("backend down")

    monkeypatch.setattr(agent.store, "get_order", broken)
    await agent.send(thread, "SG-10002")
    failed = await agent.send(thread, "anna.schmidt@example.com")
    assert failed.error and "backend down" in failed.error
    assert "went wrong" in failed.reply and failed.author == "system"
    monkeypatch.undo()
    retry = await agent.send(thread, "anna.schmidt@example.com")
    assert retry.error is None and "DHL4019283746" in retry.reply


async def test_state_stays_bounded_and_checkpoints_flat(
    own_dir: Settings, agent: SupportAgent
) -> None:
    own_dir.escalation.enabled = False  # 40 similar questions would trip the repetition rule
    async with SupportAgent.open(own_dir) as local:
        sizes = []
        for i in range(40):
            await local.send("long", f"how much is shipping to zone {i}?")
            if i in (9, 39):
                state = await local.state("long")
                sizes.append(len(str(state)))
        assert len(state["messages"]) == MESSAGE_WINDOW
        assert len(await local.history("long")) == 40  # the full transcript lives elsewhere
    assert sizes[1] < sizes[0] * 1.3
    db = sqlite3.connect(own_dir.checkpoint_path())
    (largest,) = db.execute("SELECT max(length(checkpoint)) FROM checkpoints").fetchone()
    assert largest < 20_000
