"""The replay timeline: built from the transcript and checkpoints of a thread written by an
earlier process, with node-level changes, tools, escalations and redacted PII."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from supportgraph.config import Settings
from supportgraph.replay.timeline import build_timeline
from supportgraph.runtime.agent import SupportAgent


async def test_timeline_after_a_restart(tmp_path: Path, data_dir: Path) -> None:
    (data_dir / "models").mkdir(exist_ok=True)
    (tmp_path / "models").symlink_to(data_dir / "models", target_is_directory=True)
    settings = Settings(data_dir=tmp_path)
    async with SupportAgent.open(settings) as first:
        for text in (
            "I want to cancel my order SG-10001",
            "anna.schmidt@example.com",
            "yes",
            "I want to talk to a human",
        ):
            await first.send("tl", text)
        await first.agent_reply("tl", "Hi, Sam here.")
        recorded = await first.history("tl")
    async with SupportAgent.open(settings) as second:  # a new process's view
        timeline = await build_timeline(second, "tl")
        full = await build_timeline(second, "tl", show_pii=True)
    assert timeline is not None and full is not None
    turns = timeline["turns"]
    assert [t["path"] for t in turns] == [r.path for r in recorded]
    assert [s["node"] for s in turns[2]["nodes"]] == turns[2]["path"]
    act = next(s for s in turns[2]["nodes"] if s["node"] == "act")
    assert (
        act["changes"]["pending_action"]["to"] is None
        and act["changes"]["awaiting"]["from"] == "confirmation"
    )
    assert [c["name"] for c in turns[2]["tool_calls"]] == ["cancel_order", "record_interaction"]
    assert turns[3]["escalation"]["action"] == "handoff" and turns[3]["path"][-1] == "handoff"
    assert turns[4]["author"] == "human_agent" and turns[4]["nodes"][0]["node"] == "handoff"
    ids = [c["checkpoint_id"] for c in timeline["checkpoints"]]
    assert all(t["checkpoint_id"] in ids for t in turns)
    # PII: redacted by default, shown on request.
    assert turns[1]["customer_text"] == "‹email›"
    assert turns[1]["tool_calls"][0]["args"]["email"] == "‹redacted›"
    assert full["turns"][1]["customer_text"] == "anna.schmidt@example.com"
    assert "anna.schmidt@example.com" not in json.dumps(timeline)


def test_replay_show_cli(tmp_path: Path, data_dir: Path) -> None:
    (data_dir / "models").mkdir(exist_ok=True)
    (tmp_path / "models").symlink_to(data_dir / "models", target_is_directory=True)
    env = {**os.environ, "SUPPORTGRAPH_DATA_DIR": str(tmp_path)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "supportgraph.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    cli("send", "--thread", "c1", "Where is my order SG-10002?")
    cli("send", "--thread", "c1", "anna.schmidt@example.com")
    data = json.loads(cli("replay", "show", "c1", "--json").stdout)
    assert [t["turn"] for t in data["turns"]] == [1, 2]
    assert "track_shipment" in [c["name"] for c in data["turns"][1]["tool_calls"]]
    detail = cli("replay", "show", "c1", "--turn", "2")
    assert detail.returncode == 0 and "act" in detail.stdout and "track_shipment" in detail.stdout
    missing = cli("replay", "show", "nope")
    assert missing.returncode == 2 and "not found" in missing.stderr
