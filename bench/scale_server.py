"""`supportgraph serve` processes for the scale bench: a fresh data dir whose fitted models and
KB index are links to one warmed dir (as tests/server_helpers.running_server does), a
PostgreSQL database per configuration, start / kill -9 / restart on the same port.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.pg import fresh_database  # noqa: E402  (the repository root is on sys.path now)
from tests.server_helpers import KEYS, free_port  # noqa: E402

# Only admission control may refuse a turn during the bench: every rate limit off (0).
BENCH_ENV = {
    "SUPPORTGRAPH_RATE_LIMIT_PER_MINUTE": "0",
    "SUPPORTGRAPH_CUSTOMER_RATE_LIMIT_PER_MINUTE": "0",
    "SUPPORTGRAPH_ADDRESS_RATE_LIMIT_PER_MINUTE": "0",
    "ANONYMIZED_TELEMETRY": "False",
}
SHARED = ("models", "kb")  # what a server's data dir links to in the warmed dir
READY_SECONDS = 180.0
WARM_READY_SECONDS = 900.0  # the first start fits every model: minutes on 2 busy cores


def link_shared(data_dir: Path, warm: Path) -> None:
    """Point the data dir's fitted models and KB index at the warmed dir's."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in SHARED:
        (warm / name).mkdir(parents=True, exist_ok=True)
        if not (data_dir / name).exists():
            (data_dir / name).symlink_to(warm / name, target_is_directory=True)


class Server:
    """One `supportgraph serve` process (uvicorn; `workers` worker processes under it) on a
    fixed loopback port, so that a restart after kill -9 answers at the same URL."""

    def __init__(
        self,
        data_dir: Path,
        warm: Path,
        workers: int = 1,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        link_shared(data_dir, warm)
        self.env = {
            **os.environ,
            **BENCH_ENV,
            "SUPPORTGRAPH_DATA_DIR": str(data_dir),
            "SUPPORTGRAPH_API_KEYS": json.dumps(KEYS),
            "SUPPORTGRAPH_DEMO": "false",
            **({"SUPPORTGRAPH_DATABASE_URL": database_url} if database_url else {}),
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None, "the server is not running"
        return self.proc.pid

    def start(self, ready_seconds: float = READY_SECONDS) -> float:
        """Start and wait for /readyz; the seconds it took."""
        began = time.monotonic()
        self.starts += 1
        log = (self.data_dir / f"server-{self.starts}.log").open("w")
        command = [sys.executable, "-m", "supportgraph.cli", "serve"]
        command += ["--port", str(self.port), "--workers", str(self.workers)]
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends the workers too
        )
        log.close()
        while time.monotonic() - began < ready_seconds:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"server not ready in {ready_seconds:.0f} s:\n{tail}")

    def log_tail(self, chars: int = 3000) -> str:
        path = self.data_dir / f"server-{self.starts}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def kill9(self) -> None:
        """kill -9 the whole server (its process group: uvicorn and its workers), no goodbye."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def database(kind: str) -> Iterator[str | None]:
    """A fresh PostgreSQL database for a configuration (dropped afterwards), or None for the
    embedded SQLite mode."""
    if kind == "sqlite":
        yield None
        return
    with fresh_database("sgbench") as url:
        yield url


def warm_models(warm: Path) -> float:
    """Fit the models and index the KB once, in `warm`, by starting a server on it: the
    configurations link to them, so no measured run fits a model. The seconds it took."""
    server = Server(warm / "server", warm)
    try:
        return server.start(WARM_READY_SECONDS)
    finally:
        server.stop()


class ConnectionPeak:
    """The most connections PostgreSQL had open to one database, sampled twice a second from
    pg_stat_activity while the bench runs (each worker holds pools: capacity planning needs
    this next to max_connections, which every user of the server shares)."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.peak = 0
        self.limit = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ConnectionPeak:
        if self.url is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _sample(self) -> None:
        import psycopg

        assert self.url is not None
        name = self.url.rsplit("/", 1)[1]
        with psycopg.connect(self.url, autocommit=True) as conn:
            limit = conn.execute("SHOW max_connections").fetchone()
            self.limit = int(limit[0]) if limit else 0
            while not self._stop.wait(0.5):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)
                ).fetchone()
                # this sampler's own connection is not the server's
                self.peak = max(self.peak, (int(row[0]) - 1) if row else 0)
