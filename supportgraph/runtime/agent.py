"""SupportAgent: the Python API and the only door to the runtime (docs/architecture.md).

    async with SupportAgent.open() as agent:
        record = await agent.send("thread-1", "Where is my order?")

Server, CLI, replay and evals use only its public methods (and the names this module
exports); the transcript, graph, locks, checkpointer, branches, privacy and sandboxes stay
behind it (enforced by import-linter). Turns on one thread are serialized (LangGraph alone
lets two concurrent turns on a thread silently drop one); different threads run
concurrently. One checkpoint connection per process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from langgraph.types import Command

from supportgraph.backends.factory import open_store
from supportgraph.backends.sqlite import SqliteStore
from supportgraph.config import Settings
from supportgraph.context import Deps
from supportgraph.domain.identity import (
    IdentityTokenError,
    IdentityTokenExpired,
    IdentityTokenInvalid,
    IdentityTokensDisabled,
    verify_token,
)
from supportgraph.domain.records import TurnRecord
from supportgraph.graph.builder import compile_graph
from supportgraph.nlu.text import clean_message
from supportgraph.runtime.databases import open_conversations
from supportgraph.runtime.errors import (
    InvalidMessage,
    MessageTooLong,
    NoPendingHandoff,
    NotSupportedByStore,
    ReplayError,
)
from supportgraph.runtime.history import ThreadHistory, kind_of
from supportgraph.runtime.locks import ThreadLocks
from supportgraph.runtime.records import Records, checkpoint_id, state_changes
from supportgraph.runtime.sandbox import sandbox_settings
from supportgraph.runtime.transcript import Transcript

if TYPE_CHECKING:
    from supportgraph.backends.protocols import StoreBackend
    from supportgraph.domain.schema import Customer
    from supportgraph.runtime.branches import Fork
    from supportgraph.runtime.rerun import RerunReport
    from supportgraph.runtime.retention import PruneReport

# What callers import from here (the runtime's other modules are its internals).
__all__ = [
    "VERIFIED_IDENTITY",
    "EventSink",
    "IdentityTokenError",
    "IdentityTokenExpired",
    "IdentityTokenInvalid",
    "IdentityTokensDisabled",
    "InvalidMessage",
    "MessageTooLong",
    "NoPendingHandoff",
    "NotSupportedByStore",
    "ReplayError",
    "SupportAgent",
    "ThreadHistory",
    "TurnEvent",
    "kind_of",
    "open_store",
    "sandbox_settings",
]

log = logging.getLogger("supportgraph")


EventSink = Callable[[str, dict[str, Any]], Awaitable[None]]


class TurnEvent(NamedTuple):
    """One event of a streamed turn (`SupportAgent.stream`), in order:

    - "node": {"name", "ms", "update"} as each graph node finishes;
    - "values": the whole state after each step;
    - "token": {"text"} / "reset": {} in LLM mode, the checked reply as it is written (reset:
      a layer failed after streaming, the next one answers instead);
    - "turn": the TurnRecord, always last.
    """

    kind: str
    data: Any


PLAIN_THREADS_KEPT = 10_000
# The thread metadata key that records a thread started verified by an identity token
# ({"customer_id", "via", "expires"}): written only by create_thread from a valid token (a
# caller's own metadata under this key is dropped), shown by thread_info and the timeline.
VERIFIED_IDENTITY = "verified_identity"


class SupportAgent:
    def __init__(
        self, deps: Deps, graph: Any, transcript: Transcript, locks: ThreadLocks | None = None
    ) -> None:
        # Private: callers use the methods below. Runtime modules (branches, history, privacy,
        # rerun) may reach these; nothing outside supportgraph/runtime does.
        self._deps = deps
        self.settings = deps.settings
        self._graph = graph
        self._transcript = transcript
        self._locks = locks or ThreadLocks()
        self._records = Records(self.settings.default_language, deps.templates)
        # Forked threads run against their own sandbox store: Deps per branch, kept open.
        self._branch_deps: dict[str, Deps] = {}
        # Threads known not to be forks (one lookup per thread, not per turn); bounded so a
        # long-running server does not keep every thread id it ever saw.
        self._plain_threads: set[str] = set()
        # Threads with a message in flight that this process did not finish (found at open,
        # or left by a failed commit): only these need the recovery check before a message.
        # Several worker processes share the database: then every message checks.
        self._unfinished: set[str] = set()
        self._streaming: set[asyncio.Task[None]] = set()  # turns of stream(), running

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings | None = None, **overrides: Any
    ) -> AsyncIterator[SupportAgent]:
        """Open with embedded defaults (demo brand, SQLite, Chroma) or the given settings;
        with `settings.postgres_url()`, conversations live in that PostgreSQL database."""
        settings = settings or Settings(**overrides)
        store = open_store(settings)
        try:
            deps = await Deps.from_settings(settings, store)
            async with open_conversations(settings) as db:
                agent = cls(deps, compile_graph(db.checkpointer), db.transcript, db.locks)
                try:
                    await agent.recover_all()
                    yield agent
                finally:
                    # Streamed turns whose caller left still commit before the databases close.
                    await asyncio.gather(*agent._streaming, return_exceptions=True)
                    agent._close_branches()
        finally:
            store.close()

    def _close_branches(self) -> None:
        for deps in self._branch_deps.values():
            close = getattr(deps.store, "close", None)
            if close is not None:
                close()
        self._branch_deps.clear()

    async def _deps_for(self, thread_id: str) -> Deps:
        """The Deps a thread runs with: the agent's own, or for a replay fork its sandbox store
        and a clock that continues from the forked turn's time (so time rules match)."""
        if thread_id in self._plain_threads:
            return self._deps
        deps = self._branch_deps.get(thread_id)
        if deps is not None:
            return deps
        branch = await self._transcript.branch(thread_id)
        if branch is None:
            if len(self._plain_threads) >= PLAIN_THREADS_KEPT:
                self._plain_threads.clear()
            self._plain_threads.add(thread_id)
            return self._deps
        offset = float(branch["clock_offset"])
        deps = self._deps.with_store(SqliteStore(branch["store_path"]))
        deps.clock = lambda: time.time() + offset
        self._branch_deps[thread_id] = deps
        return deps

    async def llm_problems(self) -> list[str]:
        """LLM mode start-up check: settings that cannot work (a key variable not set) and
        models that do not answer (wrong key, nothing at the URL), as readable lines.
        Conversations still work: the fallback chain answers offline meanwhile."""
        if self._deps.llm is None:
            return []
        from supportgraph.llm.settings import check_llm_settings

        return check_llm_settings(self.settings) or await self._deps.llm.probe()

    # -- customer messages ---------------------------------------------------------------

    def _lock(self, thread_id: str) -> Any:
        return self._locks.hold(thread_id)

    def _config(self, thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}}

    def validate(self, text: str) -> str:
        """The message as the turn sees it (cleaned), or InvalidMessage: not text, longer
        than `max_message_chars` (the same limit and words as the HTTP 413), or empty."""
        if not isinstance(text, str):
            raise InvalidMessage("the message must be text")
        limit = self.settings.max_message_chars
        if len(text) > limit:
            raise MessageTooLong(f"message longer than {limit} characters")
        cleaned = clean_message(text)
        if not cleaned:
            raise InvalidMessage("the message is empty: send some text")
        return cleaned

    async def send(
        self,
        thread_id: str,
        text: str,
        on_event: EventSink | None = None,
        client_message_id: str | None = None,
    ) -> TurnRecord:
        """One customer message -> the bot's TurnRecord. `on_event("node", {...})` is awaited
        as each node finishes (the server streams these as SSE). A `client_message_id` makes
        the message idempotent: sent again, it returns the first TurnRecord, runs nothing."""
        if not thread_id or len(thread_id) > 200:
            raise InvalidMessage("thread_id must be 1-200 characters")
        message = self.validate(text)
        if client_message_id is not None and not 0 < len(client_message_id) <= 200:
            raise InvalidMessage("client_message_id must be 1-200 characters")
        received = time.time()
        async with self._lock(thread_id):
            if client_message_id:
                earlier = await self._transcript.record_for_message(thread_id, client_message_id)
                if earlier is not None:
                    same = self._same_message(earlier, message)
                    if same.recovered:  # kept at start for this retry: handed out now, once
                        await self._transcript.drop_recovered(thread_id, client_message_id)
                    return same
            recovered = None
            # Other workers share the threads: any of them may have left this one unfinished.
            if self._locks.shared or thread_id in self._unfinished:
                recovered = await self._recover(thread_id)
            if recovered is not None and recovered.customer_text == message:
                if client_message_id in (None, recovered.client_message_id):
                    # The message whose turn a crash interrupted, sent again: its outcome.
                    return recovered
            started = time.perf_counter()
            config = self._config(thread_id)
            snapshot = await self._graph.aget_state(config)
            # The transcript counts customer messages, including those queued for a human.
            turn = await self._transcript.last_turn(thread_id) + 1
            now = (await self._deps_for(thread_id)).clock()
            queued = bool(snapshot.interrupts)
            payload = {"text": message, "now": now, "queued": queued}
            await self._transcript.begin_turn(
                thread_id, turn, "customer", payload, client_message_id, received
            )
            if queued:
                record = self._records.queued_for_human(thread_id, turn, message, snapshot.values)
                record.checkpoint_id = checkpoint_id(snapshot)
            else:
                record = await self._run(
                    thread_id, turn, message, self._turn_input(thread_id, turn, payload), on_event
                )
            record.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            record.received_at = received
            record.client_message_id = client_message_id
            try:
                await self._remember(record)
            except BaseException:
                self._unfinished.add(thread_id)  # the in-flight row stays: finish it next time
                raise
            return record

    async def stream(
        self,
        thread_id: str,
        text: str,
        client_message_id: str | None = None,
        on_turn: Callable[[TurnRecord], None] | None = None,
    ) -> AsyncGenerator[TurnEvent, None]:
        """`send` as an async iterator of the turn's TurnEvents: node updates (and state
        values, and in LLM mode the reply's tokens) as they happen, then ("turn", TurnRecord).
        InvalidMessage is raised from the iteration. The turn runs to its end even if the
        caller stops iterating (its record is committed all the same); `on_turn` is called
        with the record either way, so a caller that went away can still account for it."""
        queue: asyncio.Queue[TurnEvent | BaseException] = asyncio.Queue()

        async def sink(kind: str, data: dict[str, Any]) -> None:
            queue.put_nowait(TurnEvent(kind, data))

        async def run() -> None:
            try:
                record = await self.send(
                    thread_id, text, on_event=sink, client_message_id=client_message_id
                )
            except BaseException as exc:  # handed to the caller, in order
                queue.put_nowait(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                if on_turn is not None:
                    on_turn(record)
                queue.put_nowait(TurnEvent("turn", record))

        task = asyncio.create_task(run())
        # Held until done: a caller that goes away (its generator dropped, e.g. a client
        # disconnect cancelling the server's iteration) must not let the turn be collected.
        self._streaming.add(task)
        task.add_done_callback(self._streaming.discard)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.kind == "turn":
                    return
        finally:
            await task  # the turn completes even if the caller went away

    @staticmethod
    def _same_message(earlier: TurnRecord, message: str) -> TurnRecord:
        if earlier.customer_text != message:
            raise InvalidMessage(
                "this client_message_id (Idempotency-Key) was already used for another message"
            )
        return earlier

    @staticmethod
    def _turn_input(thread_id: str, turn: int, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "text": payload["text"],
            "now": payload["now"],
            "turn": turn,
            "thread_id": thread_id,
        }

    async def _remember(self, record: TurnRecord, recovered: bool = False) -> None:
        """Commit the record with the handoff queue change it implies, and end the message's
        in-flight row, in one transaction."""
        handoff: tuple[str, Any] | None = None
        if record.awaiting == "human_agent" and record.path:
            pending = await self.pending_handoff(record.thread_id)
            if pending is not None:
                handoff = ("open", pending["summary"])
        elif record.author == "human_agent":
            handoff = ("active", None)
        elif record.author == "system" and record.reply and record.error is None:
            handoff = ("close", None)
        await self._transcript.commit_turn(
            record,
            record._customer_id,
            record._steps,
            handoff,
            record.client_message_id,
            recovered,
        )

    # -- crash recovery -------------------------------------------------------------------

    async def recover_all(self) -> list[TurnRecord]:
        """Finish every message whose turn a crash interrupted (run at open)."""
        done = []
        for item in await self._transcript.inflight():
            self._unfinished.add(item["thread_id"])
            if item["kind"] == "recovered":
                continue  # finished already; kept for the customer's retry
            async with self._lock(item["thread_id"]):
                record = await self._recover(item["thread_id"], for_retry=True)
            if record is not None:
                done.append(record)
        return done

    async def _recover(self, thread_id: str, for_retry: bool = False) -> TurnRecord | None:
        """Called with the thread's lock held. A message whose turn never committed is
        finished: from its checkpoint when the graph got that far (so a confirmed write is
        reported, not asked for again), else by running the turn again with the same input
        and clock (store writes carry idempotency keys: a write already made is returned,
        not repeated). `for_retry` (at start, with no customer waiting): the record is kept
        to answer the customer's retry of that message, once."""
        self._unfinished.discard(thread_id)
        rows = await self._transcript.inflight(thread_id)
        if not rows:
            return None
        item = rows[0]
        turn, payload, kind = int(item["turn"]), item["payload"], item["kind"]
        if kind == "recovered":  # finished at start; handed out once, to a retry
            return await self._transcript.take_recovered(thread_id, int(payload["seq"]))
        log.warning("recovering turn %s of thread %s (%s)", turn, thread_id, kind)
        snapshot = await self._graph.aget_state(self._config(thread_id))
        record: TurnRecord
        if kind == "customer":
            message = payload["text"]
            if payload.get("queued"):
                record = self._records.queued_for_human(thread_id, turn, message, snapshot.values)
            elif snapshot.values.get("turn") == turn:
                record = self._records.from_checkpoint(thread_id, turn, message, snapshot)
            else:
                record = await self._run(
                    thread_id, turn, message, self._turn_input(thread_id, turn, payload)
                )
        elif kind == "resume":
            if snapshot.interrupts:
                record = await self._run(thread_id, turn, "", Command(resume=payload))
                record.tool_calls, record.retrieved = [], []
            else:
                record = self._records.from_checkpoint(thread_id, turn, "", snapshot)
        else:  # "release" of a thread whose human had already answered
            if snapshot.values.get("escalation_status") == "human_active":
                await self._release_active(thread_id)
                snapshot = await self._graph.aget_state(self._config(thread_id))
            record = self._records.from_checkpoint(thread_id, turn, "", snapshot)
        record.recovered = True
        record.received_at = float(item["received_at"])
        record.client_message_id = item["client_message_id"]
        keep_for_retry = for_retry and kind == "customer"
        await self._remember(record, recovered=keep_for_retry)
        if keep_for_retry:
            self._unfinished.add(thread_id)  # the customer's retry gets this record
        return record

    async def _run(
        self,
        thread_id: str,
        turn: int,
        message: str,
        graph_input: Any,
        on_event: EventSink | None = None,
    ) -> TurnRecord:
        config = self._config(thread_id)
        deps = await self._deps_for(thread_id)
        path: list[str] = []
        node_ms: dict[str, float] = {}
        steps: list[dict[str, Any]] = []  # per node: what it changed (for the replay timeline)
        last = time.perf_counter()
        values: dict[str, Any] = {}
        interrupt_value: dict[str, Any] | None = None
        try:
            # durability="exit": one checkpoint per turn instead of one per node step. A crash
            # mid-turn then resumes from the previous turn's checkpoint (the thread stays
            # usable; the failed message is answered with an error record), and checkpoint
            # bytes per turn drop ~8x (bench/turn_latency.py).
            async for mode, chunk in self._graph.astream(
                graph_input,
                config,
                context=deps,
                stream_mode=["updates", "values", "custom"],
                durability="exit",
            ):
                if mode == "custom":
                    # LLM mode: checked reply text as it streams ("token"), or "reset" when
                    # a layer failed after streaming and the next one answers instead.
                    if on_event is not None and isinstance(chunk, dict):
                        if "token" in chunk:
                            await on_event("token", {"text": chunk["token"]})
                        elif chunk.get("reset"):
                            await on_event("reset", {})
                    continue
                if mode == "values":
                    values = chunk
                    if on_event is not None:
                        await on_event("values", chunk)
                    continue
                now = time.perf_counter()
                for node, update in chunk.items():
                    if node == "__interrupt__":
                        interrupt_value = update[0].value if update else {}
                        continue
                    path.append(node)
                    node_ms[node] = round((now - last) * 1000, 3)
                    steps.append(
                        {
                            "node": node,
                            "ms": node_ms[node],
                            "changes": state_changes(values, update or {}),
                        }
                    )
                    if on_event is not None:
                        await on_event(
                            "node", {"name": node, "ms": node_ms[node], "update": update}
                        )
                last = now
        except Exception as exc:  # the customer gets a polite reply; the thread stays usable
            log.exception("turn failed on thread %s", thread_id)
            return self._records.failed(thread_id, turn, message, values, path, exc)
        record = self._records.build(thread_id, turn, message, values, path)
        record.node_ms = node_ms
        record._steps = steps
        record.checkpoint_id = checkpoint_id(await self._graph.aget_state(config))
        if interrupt_value is not None:
            path.append("handoff")
            record.path = path
            record.reply = str(interrupt_value.get("holding_reply", ""))
            record.awaiting = "human_agent"
        return record

    # -- human agents --------------------------------------------------------------------

    async def pending_handoff(self, thread_id: str) -> dict[str, Any] | None:
        """The handoff the thread waits on ({"type": "handoff", "summary", "priority",
        "holding_reply"}), or None when no human is being waited for."""
        snapshot = await self._graph.aget_state(self._config(thread_id))
        return snapshot.interrupts[0].value if snapshot.interrupts else None

    async def agent_reply(self, thread_id: str, text: str, agent: str = "agent") -> TurnRecord:
        """A human agent's reply: reaches the customer and resumes the paused thread."""
        message = self.validate(text)
        return await self._resume(thread_id, {"action": "reply", "text": message, "agent": agent})

    async def release(self, thread_id: str) -> TurnRecord:
        """Hand the conversation back to the bot (waiting for the human or already with them)."""
        config = self._config(thread_id)
        received = time.time()
        async with self._lock(thread_id):
            await self._recover(thread_id)
            snapshot = await self._graph.aget_state(config)
            active = snapshot.values.get("escalation_status") == "human_active"
            if not snapshot.interrupts and active:
                # The human answered and the graph ended: no interrupt to resume, so the
                # status is changed as if respond had run, and the bot takes the next message.
                turn = await self._transcript.last_turn(thread_id)
                await self._transcript.begin_turn(thread_id, turn, "release", {}, None, received)
                after = await self._release_active(thread_id)
                record = self._records.build(thread_id, turn, "", after.values, [])
                record.checkpoint_id = checkpoint_id(after)
                record.received_at = received
                await self._remember(record)
                return record
        return await self._resume(thread_id, {"action": "release"})

    async def _release_active(self, thread_id: str) -> Any:
        config = self._config(thread_id)
        snapshot = await self._graph.aget_state(config)
        lang = snapshot.values.get("reply_language") or self.settings.default_language
        text = self._deps.templates.render("handoff_released", lang)
        await self._graph.aupdate_state(
            config,
            {"escalation_status": "none", "awaiting": None, "reply": text, "author": "system"},
            as_node="respond",
        )
        return await self._graph.aget_state(config)

    async def _resume(self, thread_id: str, decision: dict[str, Any]) -> TurnRecord:
        received = time.time()
        async with self._lock(thread_id):
            await self._recover(thread_id)
            started = time.perf_counter()
            snapshot = await self._graph.aget_state(self._config(thread_id))
            if not snapshot.interrupts:
                raise NoPendingHandoff(f"thread {thread_id} is not waiting for a human agent")
            turn = await self._transcript.last_turn(thread_id)
            await self._transcript.begin_turn(thread_id, turn, "resume", decision, None, received)
            record = await self._run(thread_id, turn, "", Command(resume=decision))
            # A resumed run calls no tools: what the state holds is the handoff turn's.
            record.tool_calls, record.retrieved = [], []
            record.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            record.received_at = received
            await self._remember(record)
            return record

    # -- reading ---------------------------------------------------------------------------

    async def history(self, thread_id: str) -> list[TurnRecord]:
        """The thread's TurnRecords in order (empty for an unknown thread)."""
        return await self._transcript.records(thread_id)

    async def delete_thread(self, thread_id: str) -> None:
        """Forget a conversation: its checkpoints, transcript and handoff (and for a fork,
        its sandbox store)."""
        async with self._lock(thread_id):
            branch = await self._transcript.branch(thread_id)
            await self._graph.checkpointer.adelete_thread(thread_id)
            await self._transcript.delete_thread(thread_id)
            deps = self._branch_deps.pop(thread_id, None)
            if deps is not None:
                getattr(deps.store, "close", lambda: None)()
            if branch is not None:
                for suffix in ("", "-wal", "-shm"):
                    Path(branch["store_path"] + suffix).unlink(missing_ok=True)

    async def export_customer(self, customer_id: str) -> dict[str, Any] | None:
        """Everything stored about a customer: store records and the conversations that name
        them (supportgraph.runtime.privacy); None for an unknown customer."""
        from supportgraph.runtime import privacy

        return await privacy.export_customer(self, customer_id)

    async def erase_customer(self, customer_id: str) -> bool:
        """Erase a customer everywhere their data went (supportgraph.runtime.privacy; orders are kept
        anonymized); False, changing nothing, for an unknown customer."""
        from supportgraph.runtime import privacy

        return await privacy.erase_customer(self, customer_id)

    async def thread_exists(self, thread_id: str) -> bool:
        """A thread with any trace: owner record, transcript or checkpoint (CLI threads have
        no owner record)."""
        if await self._transcript.thread_meta(thread_id) is not None:
            return True
        if await self._transcript.last_turn(thread_id) > 0:
            return True
        return await self._graph.checkpointer.aget_tuple(self._config(thread_id)) is not None

    def node_names(self) -> set[str]:
        """The graph's node names (those a TurnRecord's path and update_state's as_node use)."""
        return {name for name in self._graph.nodes if not name.startswith("__")}

    async def update_state(
        self, thread_id: str, values: dict[str, Any], as_node: str | None = None
    ) -> Any:
        """Write state fields as if `as_node` had run (LangGraph's update_state), in turn order
        with the thread's messages. The caller decides which fields may be written."""
        async with self._lock(thread_id):
            return await self._graph.aupdate_state(self._config(thread_id), values, as_node=as_node)

    async def state(self, thread_id: str) -> dict[str, Any]:
        """The thread's conversation state (its latest checkpoint's values; {} when new)."""
        snapshot = await self._graph.aget_state(self._config(thread_id))
        return dict(snapshot.values)

    async def snapshot(self, thread_id: str) -> Any:
        """The thread's LangGraph StateSnapshot (values, next nodes, tasks, interrupts,
        config with the checkpoint id), for callers that speak LangGraph's own API."""
        return await self._graph.aget_state(self._config(thread_id))

    async def snapshots(self, thread_id: str, limit: int | None = None) -> list[Any]:
        """The thread's checkpoints as LangGraph StateSnapshots, newest first (at most
        `limit`), for LangGraph's thread history."""
        return [
            snapshot
            async for snapshot in self._graph.aget_state_history(
                self._config(thread_id), limit=limit
            )
        ]

    # -- threads ---------------------------------------------------------------------------

    async def threads(self, limit: int = 100) -> list[dict[str, Any]]:
        """The most recently active threads, newest first: thread_id, created_at,
        updated_at, turns, language, last_intent, escalation, customer_id."""
        return await self._transcript.threads(limit)

    async def thread_info(self, thread_id: str) -> dict[str, Any] | None:
        """The thread's owner record ({"owner", "metadata", "created_at"}), or None for a
        thread nobody created through `create_thread` (e.g. one the CLI started)."""
        return await self._transcript.thread_meta(thread_id)

    async def create_thread(
        self,
        thread_id: str,
        owner: str | None,
        metadata: dict[str, Any] | None,
        identity: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Register a thread with its owner (an API key id, or None) and metadata; returns
        its thread_info. The caller checks the id is new (`thread_exists`).

        `identity`: a token the shop's website signed for its logged-in customer
        ({"customer_id", "expires", "signature"}, docs/identity.md). The thread then starts
        verified as that customer (its state's customer_id, and VERIFIED_IDENTITY in its
        metadata), so their orders need no email first. A token that proves nobody raises,
        and nothing is created: IdentityTokensDisabled (no Settings.identity_secret),
        IdentityTokenExpired, IdentityTokenInvalid (a wrong signature, or no such
        customer)."""
        metadata = {k: v for k, v in (metadata or {}).items() if k != VERIFIED_IDENTITY}
        customer = None
        if identity is not None:
            customer, expires = await self._vouched_customer(identity)
            metadata[VERIFIED_IDENTITY] = {
                "customer_id": customer.id,
                "via": "identity_token",
                "expires": expires,
            }
        await self._transcript.create_thread(thread_id, owner, metadata)
        if customer is not None:
            # As if a turn had verified them: the first message finds the thread verified,
            # and the checkpoint history shows from where.
            async with self._lock(thread_id):
                await self._graph.aupdate_state(
                    self._config(thread_id),
                    {"customer_id": customer.id, "customer_segment": customer.segment},
                    as_node="respond",
                )
        info = await self.thread_info(thread_id)
        assert info is not None  # just written
        return info

    async def _vouched_customer(self, identity: Mapping[str, Any]) -> tuple[Customer, int]:
        """The store's customer an identity token proves now, and when the token expires."""
        secret = self.settings.identity_secret
        proof = verify_token(
            identity, secret.get_secret_value() if secret else None, self._deps.clock()
        )
        customer = await self._deps.store.get_customer(proof.customer_id)
        if customer is None:  # the same refusal as a wrong signature: ids are not disclosed
            raise IdentityTokenInvalid()
        return customer, proof.expires

    async def turn_count(self, thread_id: str) -> int:
        """Customer messages the thread has had (those queued for a human count too)."""
        return await self._transcript.last_turn(thread_id)

    def busy(self, thread_id: str) -> bool:
        """A turn is running (or waiting for its turn) on the thread in this process."""
        return self._locks.busy(thread_id)

    # -- the handoff queue -----------------------------------------------------------------

    async def handoffs(self, language: str | None = None) -> list[dict[str, Any]]:
        """Open and active handoffs, most urgent first, then oldest first: thread_id, status,
        priority, reason, summary, created_at, claimed_by; with `language` (the human agent's)
        also summary_view, the summary written out in it (English when it has no wording)."""
        handoffs = await self._transcript.handoffs()
        if language is None:
            return handoffs
        from supportgraph.runtime.handoff_view import summary_view

        templates, served = self._deps.templates, self.settings.reply_languages
        return [
            {**h, "summary_view": summary_view(h.get("summary") or {}, templates, served, language)}
            for h in handoffs
        ]

    async def claim_handoff(self, thread_id: str, by: str) -> bool:
        """Mark the thread's handoff claimed by `by`; False (nothing changed) when the
        thread has no handoff in the queue."""
        if not any(h["thread_id"] == thread_id for h in await self.handoffs()):
            return False
        await self._transcript.mark_handoff(thread_id, "claimed", by)
        return True

    # -- resources and operations ----------------------------------------------------------

    @property
    def store(self) -> StoreBackend:
        """The shop's store (orders, products, customers) the agent's tools act on."""
        return self._deps.store

    def set_clock(self, clock: Callable[[], float]) -> None:
        """The clock ("now", epoch seconds) turns run at from now on: evals and reruns
        replay recorded moments so time rules decide the same way. Forks keep their own."""
        self._deps.clock = clock

    def warm(self, kb: bool = True) -> None:
        """Load the models (and with `kb` the knowledge-base index) now instead of on the
        first turn. Blocking: async callers run it in a thread."""
        self._deps.warm(kb=kb)

    async def health(self) -> dict[str, str]:
        """Readiness checks: "checkpointer" (the conversations database answers), "store"
        (the store answers), "kb" (the index has documents: "ok" or "empty"). Each value is
        "ok" or what went wrong (an exception's name)."""
        checks: dict[str, str] = {}
        try:
            await self._transcript.run("SELECT 1")
            checks["checkpointer"] = "ok"
        except Exception as exc:
            checks["checkpointer"] = type(exc).__name__
        try:
            await self._deps.store.get_customer("-")
            checks["store"] = "ok"
        except Exception as exc:
            checks["store"] = type(exc).__name__
        try:
            checks["kb"] = "ok" if self._deps.kb.count() > 0 else "empty"
        except Exception as exc:
            checks["kb"] = type(exc).__name__
        return checks

    # -- replay ----------------------------------------------------------------------------

    async def replay_history(self, thread_id: str) -> ThreadHistory:
        """The thread's records with the clock each ran at and the moment it began (what
        replay needs to run it again); ReplayError for an unknown thread."""
        from supportgraph.runtime.history import load_history

        return await load_history(self, thread_id)

    async def timeline(self, thread_id: str) -> dict[str, Any] | None:
        """The replay timeline: every turn's record with each node's changes and timing,
        the checkpoints, where a fork came from and the forks made from it. Not redacted
        (supportgraph.replay.timeline.redact masks personal data); None for an unknown
        thread."""
        from supportgraph.runtime.history import timeline

        return await timeline(self, thread_id)

    async def fork(
        self, thread_id: str, turn: int, text: str, branch_id: str | None = None
    ) -> Fork:
        """From turn `turn` of a thread, send `text` instead, in a new branch thread with the
        store and clock as they were then (supportgraph.runtime.branches); the parent is
        only read. ReplayError for an unknown thread or turn or a taken branch_id,
        InvalidMessage for an unusable text."""
        from supportgraph.runtime.branches import fork_thread

        return await fork_thread(self, thread_id, turn, text, branch_id)

    async def rerun(self, thread_id: str) -> RerunReport:
        """Run the thread's recorded messages again through the current code in a sandbox,
        at their recorded clocks, and report turn by turn what diverged
        (supportgraph.runtime.rerun); nothing is written to this agent's data."""
        from supportgraph.runtime.rerun import rerun

        return await rerun(self, thread_id)

    # -- retention -------------------------------------------------------------------------

    async def prune(self, now: float | None = None, dry_run: bool = False) -> PruneReport:
        """Apply the retention settings once (supportgraph.runtime.retention): per thread keep
        the newest `keep_checkpoints` checkpoints and every one that ends a turn (replay,
        timeline and forks start from those), delete the rest; delete threads idle for more
        than `delete_idle_after_days` (none when unset) as `delete_thread` does, never one
        with a message in flight or an open handoff. `now`: the moment idleness is measured
        from (default: the current time). `dry_run`: count what would go, change nothing."""
        from supportgraph.runtime.retention import prune

        return await prune(self, now=now, dry_run=dry_run)
