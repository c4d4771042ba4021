"""A measuring proxy on loopback between supportgraph and the model server.

Each model request is logged as an Exchange: when it started, its first and last byte,
streamed or not, the size of its prompt messages, the usage in the response if any, and
whether the client left early. Bytes are passed through as they arrive (a streamed answer
reaches supportgraph token by token, as it would without the proxy), and when the client
disconnects the upstream request is closed too, so the proxy never keeps a request alive
that its caller gave up on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

# Hop-by-hop and length headers: the proxy re-frames the body, so they do not carry over.
HOP_HEADERS = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}
BODY_KEPT = 1 << 20  # enough of a response to read its usage; answers here are a few KB


@dataclass
class Exchange:
    index: int
    path: str
    tag: dict[str, Any]  # who asked: phase, case, turn (copied when the request starts)
    started: float  # time.perf_counter() seconds, the clock every part of the bench shares
    streamed: bool = False
    messages: int = 0
    messages_chars: int = 0  # of the JSON of the messages, a stand-in for prompt size
    max_tokens: int | None = None
    features: list[str] = field(default_factory=list)  # tools, response_format, ...
    status: int | None = None
    first_byte: float | None = None
    ended: float | None = None  # last byte passed on, or the moment the client left
    aborted: bool = False  # the client left before the last byte
    error: str | None = None
    usage: dict[str, Any] | None = None
    text: str | None = None  # the answer's message text (a stream's deltas joined)
    body: bytearray = field(default_factory=bytearray, repr=False)

    @property
    def seconds(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("body")
        data["seconds"] = self.seconds
        return data


class Recorder:
    """The exchanges, and the tag that the next request is attributed to (set by the
    bench between turns; read by the proxy thread when a request arrives)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.tag: dict[str, Any] = {"phase": "start"}
        self._lock = threading.Lock()

    def begin(self, path: str, body: bytes) -> Exchange:
        with self._lock:
            ex = Exchange(len(self.exchanges), path, dict(self.tag), time.perf_counter())
            self.exchanges.append(ex)
        _describe_request(ex, body)
        return ex


def _describe_request(ex: Exchange, body: bytes) -> None:
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        return
    if not isinstance(payload, dict):
        return
    messages = payload.get("messages") or []
    ex.streamed = bool(payload.get("stream"))
    ex.messages = len(messages)
    ex.messages_chars = len(json.dumps(messages, ensure_ascii=False))
    ex.max_tokens = payload.get("max_tokens")
    ex.features = sorted(
        k for k in ("tools", "tool_choice", "response_format", "functions") if k in payload
    )


def _usage_of(ex: Exchange) -> dict[str, Any] | None:
    """Usage from a JSON answer, or the last SSE chunk that carries one."""
    text = ex.body.decode("utf-8", errors="replace")
    if not ex.streamed:
        with contextlib.suppress(ValueError, AttributeError):
            return json.loads(text).get("usage")
        return None
    usage = None
    for line in text.splitlines():
        if line.startswith("data:") and '"usage"' in line:
            with contextlib.suppress(ValueError, AttributeError):
                usage = json.loads(line[5:]).get("usage") or usage
    return usage


def _text_of(ex: Exchange) -> str | None:
    """The answer's text: the message content of a JSON answer, or a stream's content deltas
    joined (what the model drafted, whether or not supportgraph used it)."""
    if not ex.path.endswith("/chat/completions"):
        return None
    text = ex.body.decode("utf-8", errors="replace")
    if not ex.streamed:
        with contextlib.suppress(ValueError, AttributeError, IndexError, TypeError):
            content = json.loads(text)["choices"][0]["message"].get("content")
            return None if content is None else str(content)
        return None
    pieces = []
    for line in text.splitlines():
        if not line.startswith("data:") or line[5:].strip() == "[DONE]":
            continue
        with contextlib.suppress(ValueError, AttributeError, IndexError, TypeError, KeyError):
            piece = json.loads(line[5:])["choices"][0]["delta"].get("content")
            if piece:
                pieces.append(str(piece))
    return "".join(pieces)


class _ClientLeft(Exception):
    pass


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send_unless_client_leaves(
    client: httpx.AsyncClient, request: httpx.Request, receive: Receive
) -> httpx.Response:
    """Until the answer's headers arrive nothing else watches the client: race the upstream
    call against the client's disconnect, and cancel it (closing the connection) if the
    client goes first. A non-streamed answer spends its whole generation here."""
    upstream = asyncio.ensure_future(client.send(request, stream=True))
    watcher = asyncio.ensure_future(_disconnected(receive))
    await asyncio.wait({upstream, watcher}, return_when=asyncio.FIRST_COMPLETED)
    if upstream.done():
        watcher.cancel()
        return upstream.result()
    upstream.cancel()
    with contextlib.suppress(BaseException):
        await upstream
    raise _ClientLeft


class _Relay(StreamingResponse):
    """Passes the upstream body on chunk by chunk; whatever ends the response (last byte,
    client gone, error), the upstream response is closed."""

    def __init__(self, upstream: httpx.Response, ex: Exchange) -> None:
        self._upstream = upstream
        self._ex = ex
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
        super().__init__(self._chunks(), status_code=upstream.status_code, headers=headers)

    async def _chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._upstream.aiter_raw():
            if self._ex.first_byte is None:
                self._ex.first_byte = time.perf_counter()
            if len(self._ex.body) < BODY_KEPT:
                self._ex.body += chunk
            yield chunk
        self._ex.ended = time.perf_counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except (OSError, ClientDisconnect):
            pass  # the client left; recorded below
        finally:
            if self._ex.ended is None:
                self._ex.ended, self._ex.aborted = time.perf_counter(), True
            self._ex.usage = _usage_of(self._ex)
            self._ex.text = _text_of(self._ex)
            # Shielded: when the client leaves, this runs inside a cancelled scope, and an
            # unshielded close would be cancelled before it closes anything.
            with anyio.CancelScope(shield=True):
                await self._upstream.aclose()


def build_app(upstream_url: str, recorder: Recorder) -> Starlette:
    clients: list[httpx.AsyncClient] = []  # made inside the proxy's own event loop

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # No read timeout: the model may take long; the caller's own timeout decides.
        timeout = httpx.Timeout(None, connect=10.0)
        async with httpx.AsyncClient(base_url=upstream_url, timeout=timeout) as client:
            clients.append(client)
            yield

    async def forward(request: Request) -> Response:
        body = await request.body()
        ex = recorder.begin(request.url.path, body)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        headers["accept-encoding"] = "identity"  # raw bytes == JSON, for reading usage
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        outgoing = clients[0].build_request(request.method, target, headers=headers, content=body)
        try:
            upstream = await _send_unless_client_leaves(clients[0], outgoing, request.receive)
        except _ClientLeft:
            ex.ended, ex.aborted = time.perf_counter(), True
            return Response(status_code=499)
        except httpx.HTTPError as exc:
            ex.ended, ex.error = time.perf_counter(), f"{type(exc).__name__}: {exc}"
            return Response(str(exc), status_code=502)
        ex.status = upstream.status_code
        return _Relay(upstream, ex)

    route = Route("/{path:path}", forward, methods=["GET", "POST"])
    return Starlette(routes=[route], lifespan=lifespan)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def proxying(upstream_url: str, recorder: Recorder) -> Iterator[str]:
    """The proxy under uvicorn in a thread (its own event loop), stopped on exit."""
    port = free_port()
    config = uvicorn.Config(
        build_app(upstream_url, recorder), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="measuring-proxy", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the measuring proxy did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
