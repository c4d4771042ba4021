"""Replay: conversations written by one process (a cancellation, a handoff, a human reply
and a release) are forked, re-run and exported by later processes, and nothing reaches
the live store or the original thread."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from supportgraph.backends.sqlite import SqliteStore
from supportgraph.config import DEMO_BRAND_DIR, Settings
from supportgraph.evals.runner import run_cases
from supportgraph.evals.suite import load_file
from supportgraph.replay.timeline import build_timeline
from supportgraph.runtime.agent import ReplayError, SupportAgent

THREAD = "bug-42"
# Written by a separate Python process: every later step reads what that process stored.
CONVERSATION = textwrap.dedent(
    """
    import asyncio, sys
    from supportgraph.runtime.agent import SupportAgent
    from supportgraph.config import Settings

    async def main():
        async with SupportAgent.open(Settings(data_dir=sys.argv[1])) as agent:
            store = agent.store
            # Another conversation changed the store before this one began ...
            await store.update_preferences("C1003", {"channel": "sms"}, key="earlier")
            for text in ("I want to cancel my order SG-10001", "anna.schmidt@example.com",
                         "yes", "I want to talk to a human"):
                await agent.send("bug-42", text)
            await agent.agent_reply("bug-42", "Hi, Sam here: the cancellation went through.")
            await agent.release("bug-42")
            await agent.send("bug-42", "Where is my order SG-10002?")
            # ... and another one changed it after.
            await store.retry_payment("SG-10005", key="later")

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("replay")
    (data_dir / "models").mkdir(exist_ok=True)
    (root / "models").symlink_to(data_dir / "models", target_is_directory=True)
    done = subprocess.run(
        [sys.executable, "-c", CONVERSATION, str(root)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return root


def thread_rows(root: Path, thread: str) -> list[tuple[object, ...]]:
    """Everything stored for a thread, byte for byte: checkpoints, writes, transcript."""
    db = sqlite3.connect(root / "checkpoints.db")
    rows: list[tuple[object, ...]] = []
    for table in ("checkpoints", "writes", "sg_turns", "sg_steps", "sg_threads"):
        rows += db.execute(f"SELECT * FROM {table} WHERE thread_id = ? ORDER BY 2, 3", (thread,))
    db.close()
    return rows


def live_store(root: Path) -> tuple[str, list[dict[str, object]]]:
    store = SqliteStore(root / "store.db")
    state = store.export().model_dump_json(), store.writes_log()
    store.close()
    return state


def cli(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supportgraph.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "SUPPORTGRAPH_DATA_DIR": str(root), **env},
        timeout=300,
    )


async def test_timeline_shows_the_recorded_paths(recorded: Path) -> None:
    async with SupportAgent.open(Settings(data_dir=recorded)) as agent:
        timeline = await build_timeline(agent, THREAD)
    assert timeline is not None
    turns = timeline["turns"]
    assert [t["author"] for t in turns] == ["bot"] * 4 + ["human_agent", "system", "bot"]
    assert turns[2]["path"][-3:] == ["act", "adapt_persona", "respond"]
    assert [c["name"] for c in turns[2]["tool_calls"]] == ["cancel_order", "record_interaction"]
    assert turns[3]["path"][-1] == "handoff" and turns[3]["escalation"]["action"] == "handoff"
    # The human's reply resumed the graph but called no tool itself.
    assert turns[4]["tool_calls"] == [] and turns[4]["nodes"][0]["node"] == "handoff"
    assert all(t["checkpoint_id"] for t in turns)


async def test_fork_at_turn_2_takes_another_path_and_leaves_the_original(recorded: Path) -> None:
    before_rows, (before_store, before_writes) = thread_rows(recorded, THREAD), live_store(recorded)
    async with SupportAgent.open(Settings(data_dir=recorded)) as agent:
        original = await agent.history(THREAD)
        fork = await agent.fork(THREAD, 2, "Actually, where is my order SG-10002?")
        branch = await agent.history(fork.branch_id)
        # The branch continues on its own: confirming a cancellation there writes to its
        # sandbox store, not to the live one.
        again = await agent.fork(THREAD, 3, "yes")
        sandbox = SqliteStore(
            (await agent._transcript.branch(again.branch_id))["store_path"]  # type: ignore[index]
        )
        timeline = await build_timeline(agent, fork.branch_id)
        parent = await build_timeline(agent, THREAD)
        with pytest.raises(ReplayError, match="no turn 9"):
            await agent.fork(THREAD, 9, "hello")
    # A different outcome: the original verified Anna and asked to confirm the cancellation.
    assert original[1].awaiting == "confirmation"
    assert fork.record.intent == "order_tracking" and fork.record.awaiting != "confirmation"
    assert [r.customer_text for r in branch] == [
        original[0].customer_text,
        fork.record.customer_text,
    ]
    assert fork.parent_checkpoint == original[0].checkpoint_id
    assert timeline is not None and timeline["branch_of"] == {
        "parent_thread": THREAD,
        "parent_checkpoint": original[0].checkpoint_id,
        "from_turn": 2,
    }
    assert parent is not None and {b["thread_id"] for b in parent["branches"]} == {
        fork.branch_id,
        again.branch_id,
    }
    assert [c.name for c in again.record.tool_calls] == ["cancel_order", "record_interaction"]
    # The sandbox is the store as turn 3 found it: the earlier write is in, the later is not.
    assert [w["action"] for w in sandbox.writes_log()] == [
        "update_preferences",
        "cancel_order",
        "record_interaction",
    ]
    sandbox.close()
    # The original thread and the live store are exactly as they were.
    assert thread_rows(recorded, THREAD) == before_rows
    assert live_store(recorded) == (before_store, before_writes)


async def test_rerun_in_process_reports_each_turn(recorded: Path) -> None:
    async with SupportAgent.open(Settings(data_dir=recorded)) as agent:
        report = await agent.rerun(THREAD)
    assert not report.diverged, report.to_dict()
    assert [t.kind for t in report.turns] == ["say"] * 4 + ["agent_reply", "release", "say"]


def test_rerun_cli_identical_then_diverged_after_a_change(recorded: Path, tmp_path: Path) -> None:
    before = live_store(recorded)
    same = cli(recorded, "replay", "rerun", THREAD)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "identical: 7 turn(s)" in same.stdout
    # A deliberate behaviour change: the brand rewords its cancellation message (a brand's
    # templates/<lang>.json overrides the keys it names over the language folder's wording).
    brand = tmp_path / "brand"
    shutil.copytree(DEMO_BRAND_DIR, brand)
    (brand / "templates").mkdir(exist_ok=True)
    reworded = {"done.cancel_order": "Your order {order_id} is now cancelled (reworded)."}
    (brand / "templates" / "en.json").write_text(json.dumps(reworded), encoding="utf-8")
    diverged = cli(recorded, "replay", "rerun", THREAD, "--json", SUPPORTGRAPH_BRAND_DIR=str(brand))
    assert diverged.returncode == 1, diverged.stdout + diverged.stderr
    report = json.loads(diverged.stdout)
    assert report["diverged"] is True and report["divergent_turns"] == [3]
    assert set(report["turns"][2]["fields"]) == {"reply"}  # the divergent field is named
    assert "{+now cancelled (reworded).+}" in report["turns"][2]["fields"]["reply"]["diff"]
    assert live_store(recorded) == before  # no rerun wrote to the live store


async def test_export_becomes_a_passing_eval_case(recorded: Path, tmp_path: Path) -> None:
    exported = cli(recorded, "replay", "export", THREAD, "--id", "bug-42-regression")
    assert exported.returncode == 0, exported.stderr
    case_file = tmp_path / "case.yaml"
    case_file.write_text(exported.stdout, encoding="utf-8")
    data = yaml.safe_load(exported.stdout)["cases"][0]
    kinds = [next(k for k in ("say", "agent_reply", "release") if k in t) for t in data["turns"]]
    assert kinds == ["say"] * 4 + ["agent_reply", "release", "say"]
    assert data["turns"][2]["expect"]["tools_called"][0] == {
        "name": "cancel_order",
        "args": {"order_id": "SG-10001", "reason": "customer request"},
    }
    # The store as the conversation saw it: the earlier change is in, the later one is not.
    assert data["setup"]["store_overrides"] == {
        "customers": {
            "C1003": {
                "preferences": {"language": "fr", "contact_channel": "email", "channel": "sms"}
            }
        }
    }
    [result] = await run_cases(load_file(case_file), Settings(data_dir=recorded))
    assert result.passed, [str(f) for f in result.failures] or result.error
    assert [r.author for r in result.records][4:6] == ["human_agent", "system"]
    missing = cli(recorded, "replay", "export", "no-such-thread")
    assert missing.returncode == 2 and "not found" in missing.stderr
