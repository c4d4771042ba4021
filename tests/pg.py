"""PostgreSQL for the tests: a real server (127.0.0.1:5432 here and in CI), one fresh database
per use, dropped afterwards.

SUPPORTGRAPH_TEST_POSTGRES names the server (default postgresql://postgres@127.0.0.1:5432/
postgres). Without a reachable server the Postgres tests skip and say why, except in CI
(CI=true), where a missing server is a failure: CI must test both backends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

SERVER_URL = os.environ.get(
    "SUPPORTGRAPH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(SERVER_URL, autocommit=True, connect_timeout=3)


def require_server() -> None:
    """Skip (or, in CI, fail) the calling test when no Postgres server answers."""
    try:
        with _admin() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        reason = f"no PostgreSQL server at {SERVER_URL} ({type(exc).__name__}: {exc})"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must run the Postgres tests")
        pytest.skip(reason)


def database_url(name: str) -> str:
    base, _, _ = SERVER_URL.rpartition("/")
    return f"{base}/{name}"


@contextmanager
def fresh_database(prefix: str = "sgtest") -> Iterator[str]:
    """The URL of a new, empty database; dropped (with its connections) afterwards."""
    require_server()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
