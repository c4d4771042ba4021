"""Reading a thread's past, for replay: the records in order with the clock each one ran at
(time rules must see the same minutes again) and the real moment the conversation began (to
copy the store as it was then); and the raw timeline of turns, nodes and checkpoints.

Built from the transcript (written once per turn, so it works for threads of earlier
processes) and the checkpointer's history. Called through `SupportAgent.replay_history` and
`SupportAgent.timeline`; redaction and rendering are replay's (supportgraph/replay/).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.errors import ReplayError

if TYPE_CHECKING:
    from supportgraph.runtime.agent import SupportAgent


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


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


async def load_history(agent: SupportAgent, thread_id: str) -> ThreadHistory:
    records = await agent._transcript.records(thread_id)
    if not records:
        raise ReplayError(f"thread {thread_id} not found")
    clock_at: dict[str, float] = {}
    async for snapshot in agent._graph.aget_state_history(_config(thread_id)):
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
    branch = await agent._transcript.branch(thread_id)
    history = ThreadHistory(thread_id, records, clocks, 0.0, branch)
    history.started_real = float(branch["origin_started_at"]) if branch else history.real_start(0)
    return history


def turn_entry(record: TurnRecord, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "turn": record.turn,
        "author": record.author,
        "customer_text": record.customer_text,
        "reply": record.reply,
        "language": record.language,
        "intent": record.intent,
        "confidence": record.confidence,
        "path": record.path,
        "escalation": record.escalation.model_dump(),
        "awaiting": record.awaiting,
        "tool_calls": [c.model_dump() for c in record.tool_calls],
        "retrieved": record.retrieved,
        "latency_ms": record.latency_ms,
        "checkpoint_id": record.checkpoint_id,
        "error": record.error,
        "nodes": steps,
    }


async def timeline(agent: SupportAgent, thread_id: str) -> dict[str, Any] | None:
    """Every turn's record and, inside it, every node in order with the state fields it
    changed; the checkpoints; where a fork came from and the forks made from it. Not
    redacted; None for a thread with no records."""
    transcript = agent._transcript
    records = await transcript.records(thread_id)
    if not records:
        return None
    steps = await transcript.steps(thread_id)
    turns = [turn_entry(r, steps.get(i, [])) for i, r in enumerate(records, 1)]
    checkpoints = []
    async for snapshot in agent._graph.aget_state_history(_config(thread_id)):
        conf = (snapshot.config or {}).get("configurable", {})
        checkpoints.append(
            {
                "checkpoint_id": conf.get("checkpoint_id"),
                "turn": snapshot.values.get("turn"),
                "created_at": snapshot.created_at,
                "next": list(snapshot.next),
            }
        )
    meta = await transcript.thread_meta(thread_id)
    branch = await transcript.branch(thread_id)
    return {
        "thread_id": thread_id,
        "metadata": (meta or {}).get("metadata", {}),
        # A fork names where it came from; any thread lists the forks made from it.
        "branch_of": None
        if branch is None
        else {k: branch[k] for k in ("parent_thread", "parent_checkpoint", "from_turn")},
        "branches": [
            {k: b[k] for k in ("thread_id", "parent_checkpoint", "from_turn", "created_at")}
            for b in await transcript.branches_of(thread_id)
        ],
        "turns": turns,
        "checkpoints": list(reversed(checkpoints)),
    }
