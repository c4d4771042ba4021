"""A thread's recorded history, as replay needs it: the records in order, the clock each
one ran at (time rules must see the same minutes again), and the real moment the
conversation began (to copy the store as it was then)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from supportgraph.domain.records import TurnRecord


class ReplayError(ValueError):
    """A replay request that cannot be done (unknown thread, turn out of range, ...)."""


@dataclass
class ThreadHistory:
    thread_id: str
    records: list[TurnRecord]
    clocks: list[float]  # the clock ("now") each record's turn ran at
    started_real: float  # epoch seconds the conversation (or the one it forked from) began
    branch: dict[str, Any] | None

    @property
    def turns(self) -> int:
        return max((r.turn for r in self.records), default=0)

    def first_of_turn(self, turn: int) -> int:
        """Index of the first record of a customer turn."""
        for index, record in enumerate(self.records):
            if record.turn == turn:
                return index
        raise ReplayError(f"thread {self.thread_id} has no turn {turn} (it has 1-{self.turns})")

    def real_start(self, index: int) -> float:
        record = self.records[index]
        if record.received_at:
            return record.received_at
        # Records written before received_at existed: the end of the turn minus its length.
        return (record.created_at or 0.0) - record.latency_ms / 1000


def kind_of(record: TurnRecord) -> str:
    """What produced a record: a customer message, a human agent's reply, or a release."""
    if record.author == "human_agent":
        return "agent_reply"
    if not record.customer_text and record.author == "system" and record.error is None:
        return "release"
    return "say"


async def load_history(agent: Any, thread_id: str) -> ThreadHistory:
    records = await agent.transcript.records(thread_id)
    if not records:
        raise ReplayError(f"thread {thread_id} not found")
    clock_at: dict[str, float] = {}
    async for snapshot in agent.graph.aget_state_history(
        {"configurable": {"thread_id": thread_id}}
    ):
        checkpoint = (snapshot.config or {}).get("configurable", {}).get("checkpoint_id")
        if checkpoint and snapshot.values.get("now") is not None:
            clock_at[checkpoint] = float(snapshot.values["now"])
    clocks: list[float] = []
    for index, record in enumerate(records):
        known = clock_at.get(record.checkpoint_id or "")
        if known is None or kind_of(record) != "say":
            # No checkpoint of its own (a message queued for a human, a failed turn, a human
            # reply): as much later than the previous record as it was in real time.
            if clocks:
                previous = records[index - 1].created_at or 0.0
                known = clocks[-1] + max(0.0, (record.created_at or 0.0) - previous)
            else:
                known = known or (record.created_at or 0.0)
        clocks.append(known)
    branch = await agent.transcript.branch(thread_id)
    history = ThreadHistory(thread_id, records, clocks, 0.0, branch)
    history.started_real = float(branch["origin_started_at"]) if branch else history.real_start(0)
    return history
