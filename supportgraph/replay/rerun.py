"""Rerun for the replay commands: `SupportAgent.rerun` runs a thread's recorded messages
again in a sandbox and reports what diverged (supportgraph/runtime/rerun.py)."""

from __future__ import annotations

from typing import Any

from supportgraph.config import Settings
from supportgraph.runtime.agent import SupportAgent


async def rerun(live: SupportAgent, thread_id: str) -> Any:
    """The RerunReport (diverged, turns, notes, seconds; to_dict()) of a running agent's
    thread; nothing is written to its data."""
    return await live.rerun(thread_id)


async def rerun_thread(settings: Settings, thread_id: str) -> Any:
    """Open an agent on `settings` and rerun one of its threads."""
    async with SupportAgent.open(settings) as live:
        return await live.rerun(thread_id)
