"""The server's edge: every HTTP request is admitted or refused here before a route sees it.

`Guard` is a pure ASGI middleware, the outermost layer of the app (create_app adds it last).
It refuses, in the project's JSON error shape `{"error": {"code", "message", "request_id"}}`:

- 414 a request target (path and query) longer than `max_header_value_bytes`;
- 431 a header block above `max_header_bytes`, or one header above `max_header_value_bytes`;
- 400 a malformed Content-Length;
- 413 a body above `max_body_bytes`: a declared Content-Length is refused before a byte of the
  body is parsed, a chunked body is counted as it arrives; an excess up to `drain_bytes` is
  read and dropped so the keep-alive connection survives, a larger body is never read and the
  connection closes;
- 429 with Retry-After a request over one of its rate limits (rate_limits.py: per API key,
  per conversation and customer, per address), checked once the body is read (so the
  keep-alive connection survives) and before its JSON is scanned;
- 422 a JSON body (no content type, or a JSON one) that is not UTF-8, that nests arrays and
  objects deeper than `max_json_depth` (a linear scan, no recursion), or that holds a string
  no UTF-8 encoder accepts (a lone surrogate escape such as "\\ud800"), naming the field.

A caller's X-Request-ID is kept only if it matches `[A-Za-z0-9._-]{1,64}`; any other value is
replaced by a new id, so it is never echoed or logged. Every answer leaves through here: it
gets the X-Request-ID header, one `http` access-log line and the `supportgraph_http_requests`
counter. An exception a route raises is answered here with a JSON 500 (logged as `unhandled`
with its type and where it was raised), so the connection stays usable and the 500 is counted.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supportgraph.config import Settings
from supportgraph.server.observability import Metrics, log_event, now_ms
from supportgraph.server.rate_limits import RateLimits

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
INTERNAL_MESSAGE = "internal error; the conversation is saved, please retry"

# One token of the depth scan: a whole JSON string (escapes included, perhaps unterminated),
# an opening bracket or a closing one. Everything else is skipped by finditer.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[{]|[\]}]', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def error_body(
    status: int, message: str, request_id: str | None, code: str | None = None
) -> dict[str, Any]:
    """The one JSON error shape of the API."""
    return {"error": {"code": code or str(status), "message": message, "request_id": request_id}}


@dataclass(frozen=True)
class Limits:
    body_bytes: int = 64 * 1024
    header_bytes: int = 16 * 1024
    header_value_bytes: int = 8 * 1024
    json_depth: int = 32
    # A body a little above the limit is read and dropped after the 413 is decided, so the
    # client's keep-alive connection survives; anything larger is never read (the connection
    # closes).
    drain_bytes: int = 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            body_bytes=settings.max_body_bytes,
            header_bytes=settings.max_header_bytes,
            header_value_bytes=settings.max_header_value_bytes,
            json_depth=settings.max_json_depth,
        )


class Refusal(Exception):
    """A request the guard answers itself. `close`: the body was left unread."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        close: bool = False,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.close = status, code, message, close
        self.headers = headers


class _Disconnected(Exception):
    """The client went away while its body was being read."""


def json_depth_exceeds(text: str, limit: int) -> bool:
    """True when arrays/objects nest deeper than `limit`; strings are skipped, one pass."""
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def unencodable_field(data: Any, path: str = "") -> str | None:
    """The dotted path of the first key or string that UTF-8 cannot encode, if any."""
    stack: list[tuple[Any, str]] = [(data, path)]
    while stack:  # iterative: the depth is bounded already, but no recursion is needed
        value, where = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return where or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                inner = f"{where}.{key}" if where else str(key)
                if _SURROGATE.search(key):
                    return f"{where}.<key>" if where else "<key>"
                stack.append((item, inner))
        elif isinstance(value, list):
            stack.extend(
                (item, f"{where}.{i}" if where else str(i)) for i, item in enumerate(value)
            )
    return None


def _printable(text: str, width: int = 80) -> str:
    """A field path safe to put in a message: no surrogates or control characters, clipped."""
    clean = "".join(c if c.isprintable() and not _SURROGATE.match(c) else "?" for c in text)
    return clean if len(clean) <= width else clean[: width - 1] + "…"


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        limits: Limits,
        metrics: Metrics,
        rate_limits: RateLimits | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.metrics = metrics
        self.rate_limits = rate_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = self._request_id(scope)
        status = 0
        refused: str | None = None

        async def send_out(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            try:
                admitted = await self._admit(scope, receive)
            except Refusal as refusal:
                refused = refusal.code
                await self._answer(send_out, refusal, request_id)
                return
            except _Disconnected:
                refused = "client_gone"
                return
            try:
                await self.app(scope, admitted, send_out)
            except Exception as exc:
                log_event(
                    "unhandled",
                    logging.ERROR,
                    request_id=request_id,
                    method=scope.get("method"),
                    route=self._route(scope),
                    error=type(exc).__name__,
                    where=_where(exc),
                )
                if status:  # the answer had begun: nothing more can be said on it
                    return
                await self._answer(send_out, Refusal(500, "internal", INTERNAL_MESSAGE), request_id)
        finally:
            status = status or 499  # nothing was answered: the client went away (nginx's 499)
            self.metrics.http.labels(str(status)).inc()
            access: dict[str, Any] = {"refused": refused} if refused else {}
            log_event(
                "http",
                request_id=request_id,
                method=scope.get("method"),
                route=self._route(scope),
                status=status,
                ms=now_ms(start),
                **access,
            )

    # -- admission --------------------------------------------------------------------------

    @staticmethod
    def _request_id(scope: Scope) -> str:
        """The caller's id if it is a short token, else a new one (request.state.request_id)."""
        given = [v for k, v in scope.get("headers", []) if k.lower() == b"x-request-id"]
        candidate = given[0].decode("latin-1") if len(given) == 1 else ""
        request_id = candidate if REQUEST_ID.fullmatch(candidate) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        return request_id

    async def _admit(self, scope: Scope, receive: Receive) -> Receive:
        """Check the head, read and check the body; a receive that replays the body."""
        limits = self.limits
        target = len(scope.get("raw_path") or scope.get("path", "").encode()) + len(
            scope.get("query_string", b"")
        )
        if target > limits.header_value_bytes:
            raise Refusal(
                414, "uri_too_long", f"request target above {limits.header_value_bytes} bytes"
            )
        total = 0
        lengths: list[bytes] = []
        content_type = b""
        for name, value in scope.get("headers", []):
            size = len(name) + len(value)
            if len(value) > limits.header_value_bytes:
                raise Refusal(
                    431,
                    "header_too_large",
                    f"header {_printable(name.decode('latin-1'), 40)} is larger than "
                    f"{limits.header_value_bytes} bytes",
                )
            total += size
            lowered = name.lower()
            if lowered == b"content-length":
                lengths.append(value.strip())
            elif lowered == b"content-type":
                content_type = value.lower()
        if total > limits.header_bytes:
            raise Refusal(
                431, "headers_too_large", f"request headers larger than {limits.header_bytes} bytes"
            )
        if lengths:
            if len(set(lengths)) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 18:
                raise Refusal(400, "bad_request", "malformed Content-Length header", close=True)
            declared = int(lengths[0])
            if declared > limits.body_bytes:
                # Never read a large body; a small excess is drained so the connection stays.
                drained = declared <= limits.drain_bytes and await self._drain(receive, 0)
                raise self._too_large(close=not drained)
        body = await self._read_body(receive)
        await self._check_rate(scope)
        if body and (not content_type or b"json" in content_type):
            self._check_json(body)
        # Admitted: what the app sees as X-Request-ID is the id this request is known by.
        scope["headers"] = [
            (k, v) for k, v in scope.get("headers", []) if k.lower() != b"x-request-id"
        ] + [(b"x-request-id", scope["state"]["request_id"].encode("ascii"))]
        return _replay(body, receive)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            more = message.get("more_body", False)
            if size > self.limits.body_bytes:  # a chunked body: reading stops by drain_bytes
                drained = not more or await self._drain(receive, size)
                raise self._too_large(close=not drained)
            chunks.append(chunk)
            if not more:
                return b"".join(chunks)

    async def _drain(self, receive: Receive, size: int) -> bool:
        """Read and drop the rest of a body up to `drain_bytes` in all; True if it ended."""
        while size <= self.limits.drain_bytes:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                return size <= self.limits.drain_bytes
        return False

    async def _check_rate(self, scope: Scope) -> None:
        if self.rate_limits is None:
            return
        limited = await self.rate_limits.check(scope)
        if limited is not None:
            self.metrics.rate_limited.labels(limited.kind).inc()
            retry = (b"retry-after", str(limited.retry_after).encode("ascii"))
            raise Refusal(429, "rate_limited", limited.message, headers=(retry,))

    def _too_large(self, close: bool) -> Refusal:
        limit = self.limits.body_bytes
        return Refusal(413, "body_too_large", f"request body above {limit} bytes", close=close)

    def _check_json(self, body: bytes) -> None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Refusal(
                422, "invalid_request", f"invalid request: body is not UTF-8 (byte {exc.start})"
            ) from None
        if json_depth_exceeds(text, self.limits.json_depth):
            raise Refusal(
                422,
                "invalid_request",
                f"invalid request: JSON nested deeper than {self.limits.json_depth} levels",
            )
        if _SURROGATE_ESCAPE.search(text):
            try:
                data = json.loads(text)
            except ValueError:
                return  # not JSON: the route's parser answers that
            field = unencodable_field(data)
            if field is not None:
                raise Refusal(
                    422,
                    "invalid_request",
                    f"invalid request: {_printable(field)}: text is not valid Unicode "
                    "(a lone surrogate such as \\ud800)",
                )

    # -- answers -----------------------------------------------------------------------------

    @staticmethod
    async def _answer(send: Send, refusal: Refusal, request_id: str) -> None:
        payload = json.dumps(
            error_body(refusal.status, refusal.message, request_id, refusal.code)
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        if refusal.close:  # an unread body: this connection cannot carry another request
            headers.append((b"connection", b"close"))
        headers.extend(refusal.headers)
        await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    @staticmethod
    def _route(scope: Scope) -> str:
        path = getattr(scope.get("route"), "path", None) or str(scope.get("path", ""))
        return _printable(path, 200)


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A receive that hands the app the body already read, then waits for a disconnect."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _where(exc: BaseException) -> str:
    """module:line of the innermost frame of a traceback (no values, so no customer text)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return ""
    return f"{tb.tb_frame.f_globals.get('__name__', '?')}:{tb.tb_lineno}"
