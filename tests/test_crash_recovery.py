"""kill -9 at every step of a confirmed write: after restart the write happened at most once
and the customer sees its outcome (the real process is killed; the restart is a new agent)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from supportgraph.config import Settings
from supportgraph.runtime.agent import SupportAgent

ROOT = Path(__file__).resolve().parent.parent
POINTS = [
    "after_message_kept",
    "after_tool",
    "after_checkpoint",
    "inside_transcript_write",
    "after_commit",
]
THREAD = "crash-thread"


def crash(data_dir: Path, shared: Path, point: str) -> None:
    data_dir.mkdir()
    for name in ("models", "kb"):  # reuse the session's trained model and KB index
        (data_dir / name).symlink_to(shared / name, target_is_directory=True)
    child = subprocess.run(
        [sys.executable, "-m", "tests.crash.child", str(data_dir), THREAD, point],
        cwd=ROOT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
async def test_kill_at_each_step_of_a_confirmed_cancellation(
    point: str, tmp_path: Path, data_dir: Path, agent: SupportAgent
) -> None:
    del agent  # the session agent trained the shared model the children load
    crash(tmp_path / "data", data_dir, point)
    async with SupportAgent.open(Settings(data_dir=tmp_path / "data")) as restarted:
        cancels = [w for w in restarted.store.writes_log() if w["action"] == "cancel_order"]
        assert len(cancels) <= 1
        history = await restarted.history(THREAD)
        # Recovery at start finished the interrupted turn: the customer's yes has a record
        # that reports the cancellation, and the write happened exactly once.
        assert [r.turn for r in history] == [1, 2, 3]
        outcome = history[-1]
        assert outcome.customer_text == "yes" and "SG-10001 is cancelled" in outcome.reply
        assert len(cancels) == 1
        order = await restarted.store.get_order("SG-10001")
        assert order is not None and order.status == "cancelled"
        # The customer's client retries the message it never got an answer to.
        retry = await restarted.send(THREAD, "yes", client_message_id="msg-yes-1")
        assert retry.reply == outcome.reply and retry.turn == 3
        assert len(await restarted.history(THREAD)) == 3
        assert len([w for w in restarted.store.writes_log() if w["action"] == "cancel_order"]) == 1


@pytest.mark.slow
async def test_a_retry_without_a_message_id_gets_the_interrupted_turns_outcome(
    tmp_path: Path, data_dir: Path, agent: SupportAgent
) -> None:
    """The red-team case: the process died between the checkpoint and the transcript; the
    customer, retrying "yes" with no idempotency key, was told "I can only help with...".
    Recovery here runs lazily, on the thread's next message (as another worker would)."""
    del agent
    crash(tmp_path / "data", data_dir, "after_checkpoint")
    async with SupportAgent.open(Settings(data_dir=tmp_path / "data")) as restarted:
        retry = await restarted.send(THREAD, "yes")
        assert "SG-10001 is cancelled" in retry.reply and retry.turn == 3
        cancels = [w for w in restarted.store.writes_log() if w["action"] == "cancel_order"]
        assert len(cancels) == 1 and len(await restarted.history(THREAD)) == 3
        # Handed out once: a later "yes" is a new message, answered as such.
        again = await restarted.send(THREAD, "yes")
        assert again.turn == 4 and not again.recovered
