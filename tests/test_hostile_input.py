"""Hostile HTTP input against a real server: every request a red team sent that was answered
500 (or accepted unbounded) is now a 4xx in the API's JSON error shape, and the same
keep-alive connection answers the next request. Sizes are bounded before a body is read."""

from __future__ import annotations

import json
import logging
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client import generate_latest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from supportgraph.server.guard import Guard, Limits, json_depth_exceeds
from supportgraph.server.observability import Metrics
from tests.server_helpers import (
    ADMIN,
    CLIENT,
    PIDS,
    auth,
    free_port,
    server_fixtures,
)

MB = 1024 * 1024


server_dir, server, http = server_fixtures("hostile")


@pytest.fixture(scope="module")
def thread(http: httpx.Client) -> str:
    r = http.post("/threads", json={}, headers=auth(CLIENT))
    assert r.status_code == 200, r.text
    return str(r.json()["thread_id"])


def local_port(response: httpx.Response) -> int:
    """The client-side port of the connection that carried a response."""
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


def assert_refused(response: httpx.Response, status: int, http: httpx.Client) -> str:
    """A JSON error with a message and the request id, and the connection still answers."""
    assert response.status_code == status, (response.request.url, response.text[:300])
    error = response.json()["error"]
    assert error["message"] and error["request_id"] == response.headers["x-request-id"]
    after = http.get("/healthz")
    assert after.status_code == 200
    assert local_port(after) == local_port(response), "the keep-alive connection was closed"
    return str(error["message"])


def rss_kib(url: str) -> int:
    status = Path(f"/proc/{PIDS[url]}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


def raw_response(sock: socket.socket, deadline: float) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response (Content-Length framed) from a socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


# -- the red team's requests, each once: a 4xx naming the problem, the connection lives ----------

JSON = {"content-type": "application/json"}


# Refused by the guard before any route sees them.
GUARDED = [
    pytest.param(
        "/threads/{t}/runs/wait",
        b'{"input": {"text": "hi \xff\xfe"}}',
        422,
        "UTF-8",
        id="invalid-utf8",
    ),
    pytest.param(
        "/v1/threads",
        b'{"metadata": {"note": "\\ud800"}}',
        422,
        "metadata.note",
        id="v1-lone-surrogate",
    ),
    pytest.param(
        "/threads", b'{"metadata": {"note": "\\ud800"}}', 422, "metadata.note", id="lone-surrogate"
    ),
    pytest.param(
        "/threads", b'{"metadata": {"\\udfff": 1}}', 422, "metadata", id="lone-surrogate-key"
    ),
    pytest.param(
        "/threads", b'{"metadata": ' * 900 + b"1" + b"}" * 900, 422, "nested", id="nested-900"
    ),
    pytest.param("/threads", b"[" * 100_000 + b"]" * 100_000, 413, "body", id="nested-100000"),
]
# Refused by the route's typed body (langgraph_schemas.py).
TYPED = [
    pytest.param("/threads/{t}/history", b'{"limit": "abc"}', 422, "limit", id="limit-abc"),
    pytest.param("/threads/{t}/history", b'{"limit": NaN}', 422, "limit", id="limit-nan"),
    pytest.param("/threads/{t}/history", b'{"limit": Infinity}', 422, "limit", id="limit-infinity"),
    pytest.param("/threads/{t}/history", b'{"limit": 100000}', 422, "limit", id="limit-above-1000"),
    pytest.param(
        "/threads/{t}/history",
        b'{"limit": ' + b"7" * 5000 + b"}",
        400,
        "body",
        id="limit-5000-digits",
    ),
    pytest.param("/threads/{t}/runs/wait", b'{"input": "hi"}', 422, "input", id="input-string"),
    pytest.param(
        "/threads/{t}/runs/wait", b'{"command": ["resume", "x"]}', 422, "command", id="command-list"
    ),
    pytest.param(
        "/threads/{t}/runs/stream",
        b'{"input": {"text": "hi"}, "stream_mode": 5}',
        422,
        "stream_mode",
        id="stream-mode-number",
    ),
    pytest.param("/threads", b'{"metadata": "x"}', 422, "metadata", id="metadata-string"),
    pytest.param(
        "/threads/{t}/state",
        b'{"values": {}, "as_node": ["respond"]}',
        422,
        "as_node",
        id="as-node-list",
    ),
    pytest.param(
        "/threads/{t}/state",
        b'{"values": {"turn": "abc", "messages": "x"}}',
        422,
        "values.turn",
        id="state-values-of-the-wrong-type",
    ),
]


@pytest.mark.parametrize(("path", "body", "status", "says"), GUARDED + TYPED)
def test_red_team_request_is_a_4xx_and_the_connection_lives(
    http: httpx.Client, thread: str, path: str, body: bytes, status: int, says: str
) -> None:
    key = ADMIN if path.endswith("/state") else CLIENT  # update_state needs agent or admin
    r = http.post(path.format(t=thread), content=body, headers={**auth(key), **JSON})
    message = assert_refused(r, status, http)
    assert says.lower() in message.lower(), message


# -- sizes ------------------------------------------------------------------------------------------


def test_a_50_mb_body_is_refused_before_a_byte_of_it_is_read(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    before = rss_kib(server)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        started = time.monotonic()
        # Only the head is sent: a server that waited for the 50 MB would never answer.
        sock.sendall(
            b"POST /v1/threads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + CLIENT.encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(50 * MB).encode()
            + b"\r\n\r\n"
        )
        status, headers, body = raw_response(sock, started + 5)
        assert time.monotonic() - started < 2
    assert status == 413 and headers.get("connection") == "close"
    assert "body" in json.loads(body)["error"]["message"]
    assert rss_kib(server) - before < 10 * 1024


def test_a_chunked_50_mb_body_is_cut_off_at_the_limit(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    before = rss_kib(server)
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * (64 * 1024))
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(
            b"POST /threads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + CLIENT.encode()
            + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        pending = b""
        while sent < 50 * MB:  # keep streaming until the server answers
            readable, writable, _ = select.select([sock], [sock], [], 5)
            if readable:
                break
            if writable:
                pending = pending or chunk
                n = sock.send(pending)
                sent, pending = sent + n, pending[n:]
        status, _, body = raw_response(sock, time.monotonic() + 5)
        elapsed = time.monotonic() - started
    assert status == 413 and "body" in json.loads(body)["error"]["message"]
    # The server stopped reading at 64 KiB: what was sent beyond sits in socket buffers.
    assert sent < 20 * MB and elapsed < 5
    assert rss_kib(server) - before < 10 * 1024


def test_30_mb_of_headers_get_431_and_a_large_request_id_is_not_echoed(
    http: httpx.Client, server_dir: Path
) -> None:
    huge = http.get("/healthz", headers={"X-Filler": "a" * (30 * MB)})
    assert_refused(huge, 431, http)
    many = http.get("/healthz", headers={f"X-Filler-{i}": "b" * 1024 for i in range(20)})
    assert "16384" in assert_refused(many, 431, http)
    big_id = "r" * 60_000
    r = http.get("/healthz", headers={"X-Request-ID": big_id})
    assert_refused(r, 431, http)
    assert re.fullmatch(r"[0-9a-f]{16}", r.headers["x-request-id"])
    assert big_id not in (server_dir / "server.log").read_text()
    assert 'supportgraph_http_requests_total{status="431"}' in http.get("/metrics").text


def test_only_short_token_request_ids_are_echoed(http: httpx.Client, server_dir: Path) -> None:
    assert http.get("/healthz", headers={"X-Request-ID": "abc-123.X_y"}).headers[
        "x-request-id"
    ] == ("abc-123.X_y")
    for bad in (b"x" * 65, b"a b", b"<script>", "idé".encode(), b"a/../b"):
        r = http.get("/healthz", headers={"X-Request-ID": bad})
        assert r.status_code == 200 and r.headers["x-request-id"].encode() != bad
        assert re.fullmatch(r"[0-9a-f]{16}", r.headers["x-request-id"])
    assert "x" * 65 not in (server_dir / "server.log").read_text()


def test_metadata_is_bounded_on_both_apis(http: httpx.Client) -> None:
    for path in ("/v1/threads", "/threads"):
        too_many = {"metadata": {f"k{i}": i for i in range(33)}}
        message = assert_refused(http.post(path, json=too_many, headers=auth(CLIENT)), 422, http)
        assert "metadata" in message and "32 keys" in message
        too_big = {"metadata": {"note": "x" * 9000}}
        message = assert_refused(http.post(path, json=too_big, headers=auth(CLIENT)), 422, http)
        assert "metadata" in message and "8192 bytes" in message
        twenty_mb = b'{"metadata": {"note": "' + b"x" * (20 * MB) + b'"}}'
        with httpx.Client(base_url=str(http.base_url), timeout=30) as fresh:
            try:
                r = fresh.post(path, content=twenty_mb, headers={**auth(CLIENT), **JSON})
            except httpx.TransportError:  # the server answered and closed while we wrote
                r = None
            if r is not None:
                assert r.status_code == 413 and r.json()["error"]["message"]
        fits = {"metadata": {f"k{i}": "v" * 100 for i in range(32)}}
        assert http.post(path, json=fits, headers=auth(CLIENT)).status_code in (200, 201)


# -- the published schemas --------------------------------------------------------------------------


def test_openapi_publishes_langgraph_request_schemas_and_every_error_status(
    http: httpx.Client,
) -> None:
    spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/assistants/search",
        "/threads",
        "/threads/{thread_id}/history",
        "/threads/{thread_id}/state",
        "/threads/{thread_id}/runs/wait",
        "/threads/{thread_id}/runs/stream",
    ):
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert "$ref" in json.dumps(body), path
    run = spec["components"]["schemas"]["RunCreate"]["properties"]
    assert {"input", "command", "stream_mode", "metadata", "config"} <= set(run)
    history = spec["components"]["schemas"]["ThreadHistory"]["properties"]["limit"]
    assert history["minimum"] == 1 and history["maximum"] == 1000
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in paths.items():
        for method, operation in operations.items():
            documented = operation["responses"]
            for status in ("400", "413", "414", "422", "431"):
                schema = documented[status]["content"]["application/json"]["schema"]
                assert schema == error, (method, path, status)
            if path not in ("/healthz", "/readyz", "/metrics"):
                assert {"401", "429"} <= set(documented), (method, path)
            if "{" in path:
                assert "404" in documented, (method, path)
    assert "403" in paths["/v1/threads"]["post"]["responses"]  # an agent key cannot
    assert "409" in paths["/threads/{thread_id}/runs/wait"]["post"]["responses"]


# -- an exception in a route: a JSON 500, logged and counted, the connection lives -------------------


@pytest.fixture
def guarded_app() -> Iterator[tuple[str, Metrics, list[logging.LogRecord]]]:
    """A tiny Starlette app behind the Guard, served by uvicorn on a loopback port."""

    async def boom(request: Any) -> JSONResponse:
        raise RuntimeError("customer text must not reach the log")

    async def ok(request: Any) -> JSONResponse:
        return JSONResponse({"ok": True, "request_id": request.state.request_id})

    metrics = Metrics()

    async def prometheus(request: Any) -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry).decode())

    app = Starlette(
        routes=[
            Route("/boom", boom, methods=["GET", "POST"]),
            Route("/ok", ok),
            Route("/metrics", prometheus),
        ]
    )
    app.add_middleware(Guard, limits=Limits(), metrics=metrics)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("supportgraph.server")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="critical"))
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", metrics, records
    finally:
        server.should_exit = True
        runner.join(10)
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_an_exception_in_a_route_is_a_json_500_logged_counted_and_the_connection_lives(
    guarded_app: tuple[str, Metrics, list[logging.LogRecord]],
) -> None:
    url, _, records = guarded_app
    with httpx.Client(base_url=url, timeout=10) as http:
        r = http.get("/boom", headers={"X-Request-ID": "boom-1"})
        assert r.status_code == 500 and r.headers["x-request-id"] == "boom-1"
        assert r.json() == {
            "error": {
                "code": "internal",
                "message": "internal error; the conversation is saved, please retry",
                "request_id": "boom-1",
            }
        }
        after = http.get("/ok")
        assert after.status_code == 200 and local_port(after) == local_port(r)
        assert after.json()["request_id"] == after.headers["x-request-id"]
        exposed = http.get("/metrics")
        assert local_port(exposed) == local_port(r)
    assert 'supportgraph_http_requests_total{status="500"} 1.0' in exposed.text
    assert 'supportgraph_http_requests_total{status="200"} 1.0' in exposed.text
    events = [(rec.getMessage(), getattr(rec, "fields", {})) for rec in records]
    unhandled = [f for e, f in events if e == "unhandled"]
    assert unhandled and unhandled[0]["error"] == "RuntimeError"
    assert unhandled[0]["request_id"] == "boom-1" and "test_hostile_input" in unhandled[0]["where"]
    access = [f for e, f in events if e == "http" and f["request_id"] == "boom-1"]
    assert access and access[0]["status"] == 500 and access[0]["route"] == "/boom"
    assert "customer text" not in json.dumps(events)


def test_a_client_gone_mid_body_is_logged_as_499_not_as_a_server_error(
    guarded_app: tuple[str, Metrics, list[logging.LogRecord]],
) -> None:
    url, metrics, records = guarded_app
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"POST /boom HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    deadline = time.time() + 5
    while time.time() < deadline and not any(r.getMessage() == "http" for r in records):
        time.sleep(0.05)
    access = [getattr(r, "fields", {}) for r in records if r.getMessage() == "http"]
    assert access and access[0]["status"] == 499 and access[0]["refused"] == "client_gone"
    assert not [r for r in records if r.getMessage() == "unhandled"]  # the route never ran
    counted = metrics.registry.get_sample_value
    assert counted("supportgraph_http_requests_total", {"status": "499"}) == 1
    assert counted("supportgraph_http_requests_total", {"status": "500"}) is None


def test_the_depth_scan_skips_strings_and_is_linear() -> None:
    assert not json_depth_exceeds('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 32)
    assert not json_depth_exceeds('{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 32)
    assert json_depth_exceeds("[" * 33 + "]" * 33, 32)
    assert not json_depth_exceeds("[" * 32 + "]" * 32, 32)
    started = time.perf_counter()
    assert not json_depth_exceeds('["' + "x" * 60_000 + '"]' + "[]" * 3000, 32)
    assert time.perf_counter() - started < 0.5
