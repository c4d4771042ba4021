"""A real `supportgraph serve` process on a free loopback port, for server and browser tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

KEYS = {
    "client-key-one-0123456789": "client",
    "client-key-two-0123456789": "client",
    "agent-key-0123456789": "agent",
    "admin-key-0123456789": "admin",
}
CLIENT, OTHER_CLIENT, AGENT, ADMIN = list(KEYS)
PIDS: dict[str, int] = {}  # base URL -> server process id, while the server runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    data_dir: Path,
    shared: Path | None = None,
    rate_limit: int = 100_000,
    customer_rate_limit: int = 0,
    address_rate_limit: int = 0,
    demo: bool = True,
    workers: int = 1,
    env: dict[str, str] | None = None,
    ready_within: float = 90,
) -> Iterator[str]:
    """Start the server, wait until it is ready, yield its base URL, stop it. The rate limits
    per key, per conversation/customer and per address are off or huge unless a test sets
    them (`env` may set any other setting)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if shared is not None:  # reuse the session's trained model and KB index
        for name in ("models", "kb"):
            (shared / name).mkdir(exist_ok=True)
            if not (data_dir / name).exists():
                (data_dir / name).symlink_to(shared / name, target_is_directory=True)
    port = free_port()
    environment = {
        **os.environ,
        "SUPPORTGRAPH_DATA_DIR": str(data_dir),
        "SUPPORTGRAPH_API_KEYS": json.dumps(KEYS),
        "SUPPORTGRAPH_DEMO": "true" if demo else "false",
        "SUPPORTGRAPH_RATE_LIMIT_PER_MINUTE": str(rate_limit),
        "SUPPORTGRAPH_CUSTOMER_RATE_LIMIT_PER_MINUTE": str(customer_rate_limit),
        "SUPPORTGRAPH_ADDRESS_RATE_LIMIT_PER_MINUTE": str(address_rate_limit),
        # Tests of ordering and durability send bursts on purpose: nothing is shed unless a
        # test asks (tests/test_admission.py).
        "SUPPORTGRAPH_MAX_TURNS_IN_FLIGHT": "10000",
        **(env or {}),
    }
    log = (data_dir / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "supportgraph.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + ready_within
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"server exited: {(data_dir / 'server.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError(f"server did not become ready in {ready_within:.0f} s")
        PIDS[url] = proc.pid
        yield url
    finally:
        PIDS.pop(url, None)
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def sse_events(response: Any) -> list[tuple[str, Any]]:
    """(event, parsed data) pairs of a streamed text/event-stream response."""
    events: list[tuple[str, Any]] = []
    event = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event:
            events.append((event, json.loads(line[6:])))
    return events


def stream_message(http: httpx.Client, thread: str, text: str, key: str) -> list[tuple[str, Any]]:
    """Send a customer message asking for SSE; the events it streamed."""
    with http.stream(
        "POST",
        f"/v1/threads/{thread}/messages",
        json={"text": text},
        headers={**auth(key), "Accept": "text/event-stream"},
    ) as response:
        return sse_events(response)


def server_fixtures(name: str, **options: Any) -> tuple[Any, Any, Any]:
    """A test module's own server as module-scoped fixtures (server_dir, server, http):

        server_dir, server, http = server_fixtures("security", env={...})

    `options` go to `running_server`; the session's trained model and KB are shared."""

    @pytest.fixture(scope="module")
    def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return tmp_path_factory.mktemp(name)

    @pytest.fixture(scope="module")
    def server(server_dir: Path, data_dir: Path) -> Iterator[str]:
        with running_server(server_dir, shared=data_dir, **options) as url:
            yield url

    @pytest.fixture(scope="module")
    def http(server: str) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=server, timeout=60) as client:
            yield client

    return server_dir, server, http
