"""Rate limits per API key, per end customer and per source address.

A shop's web chat page and widget share one client key among all their customers, so a limit
per key alone either lets one customer take the whole shop's budget or refuses the whole shop.
The buckets a request counts against (the Guard asks `RateLimits.check` for every request):

- its API key, `rate_limit_per_minute` (every request made with a known key: the whole shop);
- with a client key, its source address, `address_rate_limit_per_minute` (every request: the
  peer address, or the first X-Forwarded-For entry when `trust_forwarded_for` is set);
- with a client key, for a message (a route in MESSAGE_PATHS, which start turns): its thread,
  and the `X-Customer-Id` and `X-Session-Id` the client sends, if any,
  `customer_rate_limit_per_minute` each.

Agent and admin keys work many threads from one console: only their key is counted. A limit of
0 turns its bucket off. Over any bucket the Guard answers 429 with Retry-After and a message
naming the limit.

Each bucket is a sliding window of one minute, estimated from two fixed windows: this minute's
count plus the last minute's, weighted by the share of it still within the last 60 seconds, so
a burst across a minute boundary is not let through twice. Buckets are counted narrowest first
and counting stops at the first that refuses: a customer hammering one conversation spends that
conversation's budget, not the shop's. Refused attempts count too, so a client that keeps
hammering stays refused until it slows down.

Counters live in process memory in the embedded mode (each worker process counts its own; the
last two windows are kept), or in PostgreSQL when `Settings.postgres_url()` is set, shared by
every worker and host: one atomic upsert per bucket in `sg_rate_counters`, older windows
deleted once a minute. Bucket names hold hashes of thread ids, customer and session ids and
addresses, never the values. If the database cannot be reached the request is let through
(and a warning logged): the turn that follows fails on its own if the database is down.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import HTTPException
from starlette.requests import Request
from starlette.types import Scope

from supportgraph.backends import pgdb
from supportgraph.config import Settings
from supportgraph.server.auth import KeyRing
from supportgraph.server.observability import log_event

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

WINDOW_SECONDS = 60
# The routes that start a customer turn (server/routes/threads.py, routes/langgraph_runs.py):
# their requests are messages, counted per thread and per customer.
MESSAGE_PATHS = (
    "/v1/threads/{thread_id}/messages",
    "/threads/{thread_id}/runs/wait",
    "/threads/{thread_id}/runs/stream",
)
_MESSAGE_PATTERNS = tuple(
    re.compile(re.escape(path).replace(re.escape("{thread_id}"), "(?P<thread>[^/]+)"))
    for path in MESSAGE_PATHS
)
# What a 429 says, by bucket kind.
REFUSALS = {
    "thread": "too many messages on this conversation",
    "customer": "too many messages from this customer",
    "session": "too many messages in this session",
    "address": "too many requests from this address",
    "key": "too many requests for this API key",
}

COMPONENT = "rate_limits"
MIGRATIONS = [
    pgdb.Migration(
        1,
        "counters",
        # "window" is a reserved word in PostgreSQL: always quoted.
        """CREATE TABLE sg_rate_counters (
            bucket TEXT NOT NULL,
            "window" BIGINT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (bucket, "window"))""",
    )
]
# This window's count after the increment, and the previous window's, in one round trip.
_BUMP = """
WITH bumped AS (
    INSERT INTO sg_rate_counters AS c (bucket, "window", count) VALUES (%(bucket)s, %(window)s, 1)
    ON CONFLICT (bucket, "window") DO UPDATE SET count = c.count + 1
    RETURNING c.count)
SELECT bumped.count, coalesce((
    SELECT p.count FROM sg_rate_counters p
    WHERE p.bucket = %(bucket)s AND p."window" = %(window)s - 1), 0)
FROM bumped"""
_SWEEP = 'DELETE FROM sg_rate_counters WHERE "window" < %s'
POOL_SIZE = (1, 2)  # per worker process: a bump holds a connection for well under a millisecond
POOL_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Bucket:
    kind: str  # a key of REFUSALS
    name: str  # the counter's name: the kind and a hash or key id
    limit: int  # per minute


@dataclass(frozen=True)
class Limited:
    """A request over a bucket: what the 429 says."""

    kind: str
    message: str
    retry_after: int  # seconds


def message_thread(method: str, path: str) -> str | None:
    """The thread id of a request that starts a turn, else None."""
    if method != "POST":
        return None
    for pattern in _MESSAGE_PATTERNS:
        if match := pattern.fullmatch(path):
            return match.group("thread")
    return None


def source_address(scope: Scope, trust_forwarded_for: bool) -> str | None:
    """The peer's address, or the first X-Forwarded-For entry when the proxy is trusted (the
    entries after it are proxies; a client can forge the header, so it is ignored unless a
    proxy that sets it stands in front of the server)."""
    if trust_forwarded_for:
        for name, value in scope.get("headers", []):
            if name.lower() == b"x-forwarded-for":
                first = value.decode("latin-1").split(",")[0].strip()
                if first:
                    return first
                break
    client = scope.get("client")
    return str(client[0]) if client else None


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == wanted:
            text = value.decode("latin-1").strip()
            return text or None
    return None


def _hashed(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "replace")).hexdigest()[:24]


def sliding_count(current: int, previous: int, elapsed: float) -> float:
    """Requests in the last minute, estimated: this window's plus the share of the previous
    window's that falls within the last 60 seconds."""
    return previous * (1.0 - elapsed / WINDOW_SECONDS) + current


def retry_after(current: int, previous: int, elapsed: float, limit: int) -> int:
    """Whole seconds until a next request would be within `limit`, if none is sent before."""
    rest = WINDOW_SECONDS - elapsed
    if previous and current + 1 <= limit:
        # Still in this window: the previous window's weight fades as time passes.
        wait = WINDOW_SECONDS * (1.0 - (limit - current - 1) / previous) - elapsed
        if wait < rest:
            return max(1, math.ceil(wait))
    # In the next window this window's count is the one that fades.
    wait = rest + WINDOW_SECONDS * max(0.0, 1.0 - (limit - 1) / max(current, 1))
    return max(1, math.ceil(wait))


class Counters(Protocol):
    async def bump(self, bucket: str, window: int) -> tuple[int, int]:
        """Count one request: (this window's count with it, the previous window's count)."""

    async def close(self) -> None: ...


class MemoryCounters:
    """One process's counters, the last two windows only."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._window = 0

    async def bump(self, bucket: str, window: int) -> tuple[int, int]:
        if window > self._window:  # a new minute: the windows before the last are not read
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window - 1}
            self._window = window
        count = self._counts[bucket, window] = self._counts.get((bucket, window), 0) + 1
        return count, self._counts.get((bucket, window - 1), 0)

    def __len__(self) -> int:
        return len(self._counts)

    async def close(self) -> None:
        self._counts.clear()


class PostgresCounters:
    """Counters every worker and host shares, in `sg_rate_counters`."""

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self._pool = pool
        self._swept = 0

    @classmethod
    async def open(cls, url: str) -> PostgresCounters:
        from psycopg_pool import AsyncConnectionPool

        await asyncio.to_thread(upgrade, url)
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=POOL_SIZE[0],
            max_size=POOL_SIZE[1],
            timeout=POOL_TIMEOUT_SECONDS,
            kwargs={"autocommit": True},
            open=False,
        )
        await pool.open(wait=True)
        return cls(pool)

    async def bump(self, bucket: str, window: int) -> tuple[int, int]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(_BUMP, {"bucket": bucket, "window": window})
            row = await cursor.fetchone()
            if window > self._swept:  # each worker deletes the old windows once a minute
                self._swept = window
                await conn.execute(_SWEEP, (window - 1,))
        assert row is not None  # the upsert always returns its row
        return int(row[0]), int(row[1])

    async def close(self) -> None:
        await self._pool.close()


def upgrade(url: str) -> list[pgdb.Migration]:
    """The rate limits' tables on PostgreSQL (`supportgraph db upgrade` may call this too)."""
    return pgdb.migrate(url, COMPONENT, MIGRATIONS)


class RateLimits:
    """The buckets of a request and their counters; `open` before use on PostgreSQL."""

    def __init__(
        self,
        settings: Settings,
        keys: KeyRing,
        counters: Counters | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_key = settings.rate_limit_per_minute
        self.per_customer = settings.customer_rate_limit_per_minute
        self.per_address = settings.address_rate_limit_per_minute
        self.trust_forwarded_for = settings.trust_forwarded_for
        self._url = settings.postgres_url()
        self._keys = keys
        self._clock = clock
        self.counters: Counters = counters or MemoryCounters()

    async def open(self) -> None:
        if self._url is not None:
            self.counters = await PostgresCounters.open(self._url)

    async def close(self) -> None:
        await self.counters.close()

    def buckets(self, scope: Scope) -> list[Bucket]:
        """The buckets the request counts against, narrowest first (none without a known key:
        the route answers 401)."""
        try:
            caller = self._keys.caller(Request(scope))
        except HTTPException:
            return []
        buckets: list[Bucket] = []
        if caller.scope == "client":
            thread = message_thread(scope.get("method", ""), scope.get("path", ""))
            if thread is not None and self.per_customer > 0:
                buckets.append(Bucket("thread", "thread:" + _hashed(thread), self.per_customer))
                for kind, header in (("customer", b"x-customer-id"), ("session", b"x-session-id")):
                    if (value := _header(scope, header)) is not None:
                        name = f"{kind}:{_hashed(caller.key_id, value)}"
                        buckets.append(Bucket(kind, name, self.per_customer))
            address = source_address(scope, self.trust_forwarded_for)
            if address is not None and self.per_address > 0:
                buckets.append(Bucket("address", "address:" + _hashed(address), self.per_address))
        if self.per_key > 0:
            buckets.append(Bucket("key", caller.key_id, self.per_key))
        return buckets

    async def check(self, scope: Scope) -> Limited | None:
        """Count the request in its buckets; the first one it is over, if any."""
        buckets = self.buckets(scope)
        if not buckets:
            return None
        window, elapsed = divmod(self._clock(), WINDOW_SECONDS)
        for bucket in buckets:
            try:
                current, previous = await self.counters.bump(bucket.name, int(window))
            except Exception as exc:  # the database is unreachable: let the request through
                log_event("rate_limits_unavailable", logging.WARNING, error=type(exc).__name__)
                return None
            if sliding_count(current, previous, elapsed) > bucket.limit:
                wait = retry_after(current, previous, elapsed, bucket.limit)
                message = (
                    f"{REFUSALS[bucket.kind]} (limit {bucket.limit} a minute); retry in {wait} s"
                )
                return Limited(bucket.kind, message, wait)
        return None
