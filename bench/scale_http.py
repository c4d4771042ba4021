"""HTTP for the scale bench's client processes: a connection limit, the wait for a connection
kept out of the measured time, nothing outliving the deadline, and failures sorted into
kinds. Two implementations with the same face:

- aiohttp (the default): ~0.4-0.5 ms of client CPU per request on this machine whatever
  the number of connections;
- httpx (`--http-client httpx`): 2 ms per request alone, 4 ms at 16 connections, 12 ms at 64
  (httpcore walks its whole pool for each request), so its pools are kept at 16 connections
  and a process holds several; even so, at thousands of conversations the clients took as
  much CPU as the server they were measuring.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx

HTTPX_POOL = 16  # connections per httpx.AsyncClient (see the module's docstring)


class Cut(Exception):
    """The deadline came before the answer (or before a connection was free)."""


class TimedOut(Exception):
    """No answer within the request timeout (before the deadline)."""


class ConnectionFailed(Exception):
    """Refused, reset or closed: the server is not there (e.g. killed)."""


@dataclass
class Reply:
    status: int
    retry_after: float  # seconds, from Retry-After (1 when absent)
    data: Any  # the JSON body of a 2xx answer, else None
    ms: float  # from sending to the answer read; the wait for a connection is left out


class Http:
    """`connections` requests in flight at most; `send` waits for a free one."""

    def __init__(self, connections: int, timeout: float) -> None:
        self.slots = asyncio.Semaphore(connections)
        self.timeout = timeout

    async def send(
        self, method: str, url: str, body: dict[str, Any] | None, deadline: float
    ) -> Reply:
        try:
            await asyncio.wait_for(self.slots.acquire(), deadline - time.time())
        except TimeoutError:
            raise Cut from None
        try:
            limit = min(self.timeout, deadline - time.time())
            if limit <= 0:
                raise Cut
            sent = time.perf_counter()
            try:
                status, retry_after, data = await asyncio.wait_for(
                    self._call(method, url, body), limit
                )
            except TimeoutError:
                raise (Cut if time.time() >= deadline - 0.01 else TimedOut) from None
            return Reply(status, retry_after, data, (time.perf_counter() - sent) * 1000)
        finally:
            self.slots.release()

    async def _call(
        self, method: str, url: str, body: dict[str, Any] | None
    ) -> tuple[int, float, Any]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


def _retry_after(value: str | None) -> float:
    try:
        return float(value) if value else 1.0
    except ValueError:
        return 1.0


class AiohttpHttp(Http):
    def __init__(self, connections: int, timeout: float, headers: dict[str, str]) -> None:
        super().__init__(connections, timeout)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=None),  # bounded by `send`
        )

    async def _call(
        self, method: str, url: str, body: dict[str, Any] | None
    ) -> tuple[int, float, Any]:
        try:
            async with self.session.request(method, url, json=body) as response:
                data = None
                if 200 <= response.status < 300:
                    data = await response.json()
                else:
                    await response.read()  # the whole answer: the connection is reused
                return response.status, _retry_after(response.headers.get("Retry-After")), data
        except aiohttp.ClientError as exc:  # connection refused, reset, server disconnected
            raise ConnectionFailed(type(exc).__name__) from exc

    async def close(self) -> None:
        await self.session.close()


class HttpxHttp(Http):
    def __init__(self, connections: int, timeout: float, headers: dict[str, str]) -> None:
        super().__init__(connections, timeout)
        tls = ssl.create_default_context()  # loaded once, not per pool (plain HTTP anyway)
        sizes = [HTTPX_POOL] * (connections // HTTPX_POOL)
        sizes += [connections % HTTPX_POOL] if connections % HTTPX_POOL else []
        self.pools = [
            httpx.AsyncClient(
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                headers=headers,
                timeout=timeout,
                verify=tls,
            )
            for size in sizes
        ]
        # A free connection's pool: each pool's index once per connection it has.
        self.free: asyncio.Queue[int] = asyncio.Queue()
        for index, size in enumerate(sizes):
            for _ in range(size):
                self.free.put_nowait(index)

    async def _call(
        self, method: str, url: str, body: dict[str, Any] | None
    ) -> tuple[int, float, Any]:
        index = self.free.get_nowait()  # never empty: `send` holds one of as many slots
        try:
            response = await self.pools[index].request(method, url, json=body)
        except httpx.TimeoutException as exc:
            raise TimeoutError from exc
        except httpx.TransportError as exc:
            raise ConnectionFailed(type(exc).__name__) from exc
        finally:
            self.free.put_nowait(index)
        data = response.json() if response.is_success else None
        return response.status_code, _retry_after(response.headers.get("retry-after")), data

    async def close(self) -> None:
        for pool in self.pools:
            await pool.aclose()


def make_http(kind: str, connections: int, timeout: float, headers: dict[str, str]) -> Http:
    if kind == "httpx":
        return HttpxHttp(connections, timeout, headers)
    if kind == "aiohttp":
        return AiohttpHttp(connections, timeout, headers)
    raise ValueError(f"unknown HTTP client {kind!r}: aiohttp or httpx")
