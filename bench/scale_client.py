"""The scale bench's load generator: client processes, each an asyncio loop with an HTTP
client under a connection limit (scale_http.py), driving its share of the conversations.

A conversation's turns are sequential (the next is sent after the reply), conversations run
concurrently. Every message carries a client message id, so a retry is safe: a 503 (shed by
admission control) or 429 is retried after Retry-After (growing on repeated refusals, with
jitter, as a well-behaved client would), a timeout, a dropped connection or a 5xx after a short
pause (in the kill -9 drill, on the other server). What is not answered 2xx by the deadline
is "cut". Each process measures its own CPU time (getrusage), so the report can say whether the
load generator kept up.
"""

from __future__ import annotations

import asyncio
import random
import resource
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from scale_conversations import Conversation
from scale_http import ConnectionFailed, Cut, Http, Reply, TimedOut, make_http
from scale_processes import ClientProcesses

CLIENT_KEY = "client-key-one-0123456789"  # tests/server_helpers.py KEYS, read by the servers
HEADERS = {"Authorization": f"Bearer {CLIENT_KEY}"}
RETRY_BACKOFF_CAP = 8  # a refused turn waits at most Retry-After x this (before jitter)

# Turns answered 2xx so far, over every client process (set by `init_process`): the drill
# times its kills by it.
_progress: Synchronized[int] | None = None


def init_process(progress: Synchronized[int] | None) -> None:
    global _progress
    _progress = progress


@dataclass(frozen=True)
class Plan:
    """One client process's share of a run."""

    urls: tuple[str, ...]  # a conversation's home server is urls[index % len(urls)]
    conversations: tuple[Conversation, ...]
    duration: float  # seconds from the start after which nothing is sent: the rest is "cut"
    connections: int  # this process's connection limit (and requests in flight)
    request_timeout: float
    failover: bool  # retry a failed request on the next server (the kill -9 drill)
    run_id: str  # makes client message ids unique across runs
    http_client: str = "aiohttp"  # or "httpx" (scale_http.py says why not by default)
    # Each conversation's thread, opened before the run (None: it could not be opened), so
    # the measured run is turns: thousands of customers do not all open a chat at one instant.
    threads: tuple[str | None, ...] = ()
    start_at: float = 0.0  # time.time() at which every process starts its conversations

    @property
    def deadline(self) -> float:
        return self.start_at + self.duration


@dataclass
class LoadResult:
    admitted_ms: list[float] = field(default_factory=list)  # each 2xx request, send to reply
    turn_ms: list[float] = field(default_factory=list)  # first try to 2xx, retries included
    refused: Counter[str] = field(default_factory=Counter)  # failed attempts by kind
    outcomes: Counter[str] = field(default_factory=Counter)  # turns: ok, cut, failed
    acknowledged: dict[str, list[str]] = field(default_factory=dict)  # thread -> message ids
    homes: dict[str, str] = field(default_factory=dict)  # thread -> a server that answered it
    cancellations: dict[str, str] = field(default_factory=dict)  # order -> thread, confirmed
    loop_lag_ms: list[float] = field(default_factory=list)  # see watch_loop_lag
    threads: int = 0
    failovers: int = 0
    cpu_seconds: float = 0.0  # this process's user + system time during the run
    started: float = 0.0
    finished: float = 0.0  # time.time() the last conversation ended
    deadline: float = 0.0

    @property
    def wall_seconds(self) -> float:
        """From the start until every conversation was done or the deadline came (a busy
        client may note the end of what the deadline cut a little later)."""
        return max(min(self.finished, self.deadline or self.finished) - self.started, 1e-9)

    def merge(self, other: LoadResult) -> None:
        self.admitted_ms += other.admitted_ms
        self.turn_ms += other.turn_ms
        self.refused.update(other.refused)
        self.outcomes.update(other.outcomes)
        self.acknowledged.update(other.acknowledged)
        self.homes.update(other.homes)
        self.cancellations.update(other.cancellations)
        self.loop_lag_ms += other.loop_lag_ms
        self.threads += other.threads
        self.failovers += other.failovers
        self.cpu_seconds += other.cpu_seconds
        self.started = min(self.started or other.started, other.started)
        self.finished = max(self.finished, other.finished)
        self.deadline = max(self.deadline, other.deadline)


def split(conversations: list[Conversation], processes: int) -> list[tuple[Conversation, ...]]:
    return [tuple(conversations[i::processes]) for i in range(processes)]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(plan: Plan) -> LoadResult:
    """A client process's entry point (a process pool runs it)."""
    return asyncio.run(_run(plan))


def refusal_kind(status: int) -> str:
    if status == 503:
        return "503 shed"
    if status == 429:
        return "429"
    if status >= 500:
        return "5xx"
    return str(status)


class Conversations:
    """One process's conversations over one Http (its connection limit shared by all)."""

    def __init__(self, plan: Plan, http: Http, result: LoadResult) -> None:
        self.plan = plan
        self.http = http
        self.result = result

    async def request(
        self, server: int, method: str, path: str, body: dict[str, Any]
    ) -> tuple[int, Reply | None, str]:
        """One attempt: (the server it went to, the reply or None, failure kind or "")."""
        url = self.plan.urls[server % len(self.plan.urls)] + path
        try:
            reply = await self.http.send(method, url, body, self.plan.deadline)
        except Cut:
            return server, None, "cut"
        except TimedOut:
            return server, None, "timeout"
        except ConnectionFailed:
            return server, None, "connection"
        if 200 <= reply.status < 300:
            self.result.admitted_ms.append(reply.ms)
            return server, reply, ""
        return server, reply, refusal_kind(reply.status)

    async def until_answered(
        self, server: int, method: str, path: str, body: dict[str, Any]
    ) -> tuple[int, Reply | None, str]:
        """Retry one request until a 2xx, a refusal not worth retrying, or the deadline."""
        refusals = 0
        while True:
            server, reply, kind = await self.request(server, method, path, body)
            if not kind or kind == "cut":
                return server, reply, kind
            self.result.refused[kind] += 1
            if kind[0] == "4" and kind != "429":  # the request itself is wrong: never retried
                return server, reply, kind
            refusals += 1
            if reply is not None and kind in ("503 shed", "429"):
                wait = reply.retry_after * min(2 ** (refusals - 1), RETRY_BACKOFF_CAP)
            else:  # the server failed or went away: another one may answer (drill)
                wait = min(0.1 * 2**refusals, 2.0)
                if self.plan.failover and len(self.plan.urls) > 1:
                    server += 1
                    self.result.failovers += 1
            # Never past the deadline: the next attempt then reports the turn cut.
            pause = min(wait * random.uniform(0.5, 1.5), self.plan.deadline - time.time())
            await asyncio.sleep(max(0.0, pause))

    async def converse(self, conversation: Conversation, thread: str | None) -> None:
        plan, result = self.plan, self.result
        server = conversation.index % len(plan.urls)
        if thread is None:
            result.outcomes["failed"] += len(conversation.messages)
            return
        result.threads += 1
        result.acknowledged[thread] = []
        for turn, text in enumerate(conversation.messages, 1):
            message_id = f"{plan.run_id}-{conversation.index}-{turn}"
            first = time.perf_counter()
            server, reply, kind = await self.until_answered(
                server,
                "POST",
                f"/v1/threads/{thread}/messages",
                {"text": text, "client_message_id": message_id},
            )
            if reply is None or kind:
                left = len(conversation.messages) - turn + 1
                result.outcomes["cut" if kind == "cut" else "failed"] += left
                return
            result.turn_ms.append((time.perf_counter() - first) * 1000)
            result.outcomes["ok"] += 1
            result.acknowledged[thread].append(message_id)
            result.homes[thread] = plan.urls[server % len(plan.urls)]
            if _progress is not None:
                with _progress.get_lock():
                    _progress.value += 1
            if conversation.order and confirmed_cancellation(reply.data):
                result.cancellations[conversation.order] = thread


async def watch_loop_lag(lags: list[float], every: float = 0.1) -> None:
    """How late this process's event loop wakes up (ms): a client that cannot keep up (no CPU
    to spare, or too much to do) shows it here first, and its latencies are then its own."""
    while True:
        start = time.perf_counter()
        await asyncio.sleep(every)
        lags.append((time.perf_counter() - start - every) * 1000)


def confirmed_cancellation(record: dict[str, Any]) -> bool:
    return any(c["name"] == "cancel_order" and c["ok"] for c in record.get("tool_calls", []))


async def _run(plan: Plan) -> LoadResult:
    result = LoadResult(deadline=plan.deadline)
    http = make_http(plan.http_client, plan.connections, plan.request_timeout, HEADERS)
    try:
        await asyncio.sleep(max(0.0, plan.start_at - time.time()))
        cpu = cpu_seconds()
        result.started = time.time()
        talks = Conversations(plan, http, result)
        watch = asyncio.create_task(watch_loop_lag(result.loop_lag_ms))
        await asyncio.gather(
            *(talks.converse(c, t) for c, t in zip(plan.conversations, plan.threads, strict=True))
        )
        result.finished = time.time()
        result.cpu_seconds = cpu_seconds() - cpu
        watch.cancel()
    finally:
        await http.close()
    return result


def plans(
    urls: tuple[str, ...],
    conversations: list[Conversation],
    processes: int,
    connections: int,
    duration: float,
    request_timeout: float,
    run_id: str,
    failover: bool = False,
    http_client: str = "aiohttp",
) -> list[Plan]:
    """The conversations split over `processes` client processes, each sending for
    `duration` seconds once started."""
    return [
        Plan(
            urls=urls,
            conversations=share,
            duration=duration,
            connections=max(1, connections // processes),
            request_timeout=request_timeout,
            failover=failover,
            run_id=run_id,
            http_client=http_client,
        )
        for share in split(conversations, processes)
    ]


def with_threads(jobs: list[Plan]) -> list[Plan]:
    """The plans with a thread opened for each conversation (POST /v1/threads on its home
    server, in the client processes)."""
    opened = ClientProcesses(open_threads, jobs).results()
    return [
        replace(plan, threads=tuple(threads)) for plan, threads in zip(jobs, opened, strict=True)
    ]


def launch(jobs: list[Plan], progress: Any = None) -> tuple[ClientProcesses, list[Plan]]:
    """Start the plans' client processes, which begin together in 3 s (spawning them takes a
    moment), counting answered turns in `progress` (a scale_processes.shared_counter) if
    given: the processes (`.results()` waits for them) and the plans as started."""
    start_at = time.time() + 3.0
    started = [replace(plan, start_at=start_at) for plan in jobs]
    return ClientProcesses(run, started, init_process, (progress,)), started


def drive(jobs: list[Plan]) -> LoadResult:
    """Run the plans (threads opened) in their client processes; their results merged."""
    processes, _ = launch(jobs)
    return merged(processes.results())


def merged(results: list[LoadResult]) -> LoadResult:
    total = LoadResult()
    for result in results:
        total.merge(result)
    return total


def open_threads(plan: Plan) -> list[str | None]:
    """A client process's entry point: a thread for each of the plan's conversations."""
    return asyncio.run(_open_threads(plan))


async def _open_threads(plan: Plan, attempts: int = 5) -> list[str | None]:
    http = make_http(plan.http_client, plan.connections, plan.request_timeout, HEADERS)

    async def open_one(conversation: Conversation) -> str | None:
        url = plan.urls[conversation.index % len(plan.urls)] + "/v1/threads"
        for _ in range(attempts):
            try:
                reply = await http.send("POST", url, {}, time.time() + plan.request_timeout)
            except (Cut, TimedOut, ConnectionFailed):
                reply = None
            if reply is not None and reply.status == 201:
                return str(reply.data["thread_id"])
            await asyncio.sleep(random.uniform(0.2, 1.0))
        return None

    try:
        return list(await asyncio.gather(*(open_one(c) for c in plan.conversations)))
    finally:
        await http.close()
