"""Fork (time travel): from any turn of a thread, send a different customer message and go
on in a new branch thread (`SupportAgent.fork`).

The branch gets a copy of the parent's checkpoint from just before that turn and of the
earlier turns' records; its writes go to a sandbox copy of the store as it was at that
moment; its clock continues from that turn's time (`SupportAgent` runs a branch's turns with
that store and clock). The parent thread is only read.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from supportgraph.backends.sqlite import SqliteStore
from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.errors import NotSupportedByStore, ReplayError
from supportgraph.runtime.history import load_history

if TYPE_CHECKING:
    from supportgraph.runtime.agent import SupportAgent


@dataclass
class Fork:
    branch_id: str
    parent_thread: str
    parent_checkpoint: str | None
    from_turn: int
    record: TurnRecord  # the reply to the new message

    def to_dict(self) -> dict[str, Any]:
        return {
            "branch_id": self.branch_id,
            "parent_thread": self.parent_thread,
            "parent_checkpoint": self.parent_checkpoint,
            "from_turn": self.from_turn,
            "record": self.record.model_dump(),
        }


async def copy_checkpoint(saver: Any, source: str, checkpoint_id: str, target: str) -> None:
    """Put the exact checkpoint (with its pending writes, e.g. a waiting handoff) into
    another thread."""
    found = await saver.aget_tuple(
        {"configurable": {"thread_id": source, "checkpoint_ns": "", "checkpoint_id": checkpoint_id}}
    )
    if found is None:
        raise ReplayError(f"checkpoint {checkpoint_id} of thread {source} not found")
    metadata = {**(found.metadata or {}), "source": "fork", "forked_from": source}
    config = await saver.aput(
        {"configurable": {"thread_id": target, "checkpoint_ns": ""}},
        found.checkpoint,
        metadata,
        found.checkpoint.get("channel_versions", {}),
    )
    by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for task_id, channel, value in found.pending_writes or []:
        by_task[task_id].append((channel, value))
    for task_id, writes in by_task.items():
        await saver.aput_writes(config, writes, task_id)


async def fork_thread(
    agent: SupportAgent, thread_id: str, turn: int, text: str, branch_id: str | None = None
) -> Fork:
    message = agent.validate(text)
    history = await load_history(agent, thread_id)
    first = history.first_of_turn(turn)
    branch_id = branch_id or f"{thread_id}~t{turn}-{uuid.uuid4().hex[:6]}"
    transcript = agent._transcript
    if await transcript.last_turn(branch_id) or await transcript.branch(branch_id):
        raise ReplayError(f"thread {branch_id} already exists")
    checkpoints = [r.checkpoint_id for r in history.records[:first] if r.checkpoint_id]
    parent_checkpoint = checkpoints[-1] if checkpoints else None
    source_store = (await agent._deps_for(thread_id)).store
    if not isinstance(source_store, SqliteStore):
        raise NotSupportedByStore("forking needs the SQLite store (it copies it into a sandbox)")
    sandbox = agent.settings.resolved_data_dir() / "sandboxes" / f"{uuid.uuid4().hex}.db"
    source_store.copy_as_of(history.real_start(first), sandbox)
    async with agent._locks.hold(branch_id):
        if parent_checkpoint is not None:
            await copy_checkpoint(
                agent._graph.checkpointer, thread_id, parent_checkpoint, branch_id
            )
        await transcript.copy_turns(thread_id, branch_id, turn)
        await transcript.create_branch(
            {
                "thread_id": branch_id,
                "parent_thread": thread_id,
                "parent_checkpoint": parent_checkpoint,
                "from_turn": turn,
                "store_path": str(sandbox),
                "origin_started_at": history.started_real,
                "clock_offset": history.clocks[first] - time.time(),
                "created_at": time.time(),
            }
        )
    record = await agent.send(branch_id, message)
    return Fork(branch_id, thread_id, parent_checkpoint, turn, record)
