"""A thread's recorded history, as replay needs it (SupportAgent.replay_history): the records
in order, the clock each one ran at, the real moment the conversation began. The names are
the runtime's, re-exported here for the replay commands."""

from __future__ import annotations

from supportgraph.runtime.agent import ReplayError, SupportAgent, ThreadHistory, kind_of

__all__ = ["ReplayError", "ThreadHistory", "kind_of", "load_history"]


async def load_history(agent: SupportAgent, thread_id: str) -> ThreadHistory:
    return await agent.replay_history(thread_id)
