"""Fork (time travel) for the replay commands: `SupportAgent.fork` does it (the branch's
checkpoint, records, sandbox store and clock are the runtime's: supportgraph/runtime/
branches.py)."""

from __future__ import annotations

from typing import Any

from supportgraph.runtime.agent import SupportAgent


async def fork_thread(
    agent: SupportAgent, thread_id: str, turn: int, text: str, branch_id: str | None = None
) -> Any:
    """The Fork (branch_id, parent_thread, parent_checkpoint, from_turn, record; to_dict())."""
    return await agent.fork(thread_id, turn, text, branch_id)
