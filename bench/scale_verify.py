"""After a run: is every message a server acknowledged (2xx) in its thread? Each thread's
turns are read back through the API (GET /v1/threads/{id}/turns, as its customer could), in
client processes, and matched by client message id: missing is "lost", twice is "duplicated".
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from scale_client import HEADERS, LoadResult
from scale_http import AiohttpHttp, ConnectionFailed, Cut, TimedOut
from scale_processes import ClientProcesses

READERS = 32  # connections per verifying process
READ_TIMEOUT = 60.0


@dataclass
class Verified:
    lost: int = 0  # a 2xx message id missing from its thread's turns
    duplicated: int = 0  # a message id that appears in more than one turn of its thread
    unreadable: int = 0  # threads whose history could not be read
    committed: int = 0  # turns stored in the threads read (answered, or finished after a cut)
    lost_examples: list[str] = field(default_factory=list)

    def merge(self, other: Verified) -> None:
        self.lost += other.lost
        self.duplicated += other.duplicated
        self.unreadable += other.unreadable
        self.committed += other.committed
        self.lost_examples += other.lost_examples[: max(0, 5 - len(self.lost_examples))]


def verify(job: tuple[dict[str, list[str]], dict[str, str], str]) -> Verified:
    """A client process's entry point: read each thread's turns (GET /v1/threads/{id}/turns,
    from the server that answered it, else `fallback`) and check its acknowledged ids."""
    acknowledged, homes, fallback = job
    return asyncio.run(_verify(acknowledged, homes, fallback))


async def _verify(
    acknowledged: dict[str, list[str]], homes: dict[str, str], fallback: str
) -> Verified:
    verified = Verified()
    http = AiohttpHttp(READERS, READ_TIMEOUT, HEADERS)
    deadline = time.time() + READ_TIMEOUT * 10

    async def read(thread: str, ids: list[str]) -> None:
        url = f"{homes.get(thread, fallback)}/v1/threads/{thread}/turns"
        try:
            reply = await http.send("GET", url, None, deadline)
        except (Cut, TimedOut, ConnectionFailed):
            reply = None
        if reply is None or reply.status != 200:
            verified.unreadable += 1
            verified.lost += len(ids)
            return
        stored = Counter(t.get("client_message_id") for t in reply.data)
        verified.committed += sum(n for key, n in stored.items() if key)
        for message_id in ids:
            if stored[message_id] == 0:
                verified.lost += 1
                verified.lost_examples.append(f"{thread}/{message_id}")
        verified.duplicated += sum(n - 1 for key, n in stored.items() if key and n > 1)

    try:
        await asyncio.gather(*(read(t, ids) for t, ids in acknowledged.items()))
    finally:
        await http.close()
    return verified


def check(
    result: LoadResult, fallback: str, processes: int, every_thread: bool = False
) -> Verified:
    """Verify every acknowledged message, the threads split over client processes: the
    threads with an acknowledged message, or `every_thread` created (a thread with none has
    nothing to lose, and at 5,000 conversations reading them all takes a while)."""
    threads = sorted(t for t, ids in result.acknowledged.items() if ids or every_thread)
    jobs = [
        ({t: result.acknowledged[t] for t in threads[i::processes]}, result.homes, fallback)
        for i in range(processes)
    ]
    total = Verified()
    for verified in ClientProcesses(verify, jobs).results():
        total.merge(verified)
    return total
