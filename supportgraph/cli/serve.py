"""`supportgraph serve`: the HTTP server (uvicorn), with demo keys printed in demo mode.

Several workers (`--workers N`) are separate processes. On PostgreSQL
(SUPPORTGRAPH_DATABASE_URL) they share the conversations like several hosts would: the
database's advisory locks order each thread's turns, and the migrations are applied here,
once, before any worker starts. On the embedded SQLite file they need cross-process lease
locks (`process_locks`), and SQLite's single writer limits them: a warning says so.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from supportgraph.cli.common import DataDir, fail, settings_for

WORKERS_HELP = (
    "Worker processes. With PostgreSQL (SUPPORTGRAPH_DATABASE_URL) any number: every worker "
    "(and host) shares the conversations and each thread's turns stay ordered. With the "
    "embedded SQLite file keep 1: several workers share one file and fail under load."
)
SQLITE_WORKERS_WARNING = (
    "warning: --workers > 1 shares one SQLite database between processes; under heavy "
    "load this fails with 'database is locked' errors (bench/server_load.py). "
    "Use 1 worker with SQLite, or PostgreSQL (SUPPORTGRAPH_DATABASE_URL) to scale out."
)


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help=WORKERS_HELP)] = 1,
    data_dir: DataDir = None,
) -> None:
    """Run the HTTP server: API under /v1, chat page at /, agent console at /agent.

    PostgreSQL (SUPPORTGRAPH_DATABASE_URL): migrations are applied first, as by `db upgrade`."""
    import os

    import uvicorn

    from supportgraph.server.auth import KeyRing
    from supportgraph.server.observability import setup_json_logging

    settings = settings_for(data_dir)
    url = settings.postgres_url()
    if url is not None:
        upgrade_schema(url)
    keys = KeyRing.from_settings(settings.api_keys, settings.demo)
    if keys.demo and not settings.api_keys:
        # Only keys generated for this run are printed: configured keys never reach a log.
        typer.secho("demo mode: API keys for this run:", fg=typer.colors.YELLOW)
        for key, scope in keys.keys.items():
            typer.echo(f"  {scope:6} {key}")
    if keys.demo:
        typer.echo(f"chat page: http://{host}:{port}/   agent console: http://{host}:{port}/agent")
    # Workers are separate processes: they receive the same keys and data dir via the environment.
    os.environ["SUPPORTGRAPH_API_KEYS"] = json.dumps(keys.keys)
    os.environ["SUPPORTGRAPH_DEMO"] = "true" if keys.demo else "false"
    # SQLite: one thread's turns must stay ordered across worker processes (on PostgreSQL the
    # database's advisory locks always order them).
    if url is None and workers > 1:
        os.environ["SUPPORTGRAPH_PROCESS_LOCKS"] = "true"
        typer.secho(SQLITE_WORKERS_WARNING, fg=typer.colors.YELLOW, err=True)
    if data_dir:
        os.environ["SUPPORTGRAPH_DATA_DIR"] = str(data_dir)
    setup_json_logging()
    uvicorn.run(
        "supportgraph.server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


def upgrade_schema(url: str) -> None:
    """Every component's migrations, applied once here rather than by each worker as it
    opens (they would queue on the migrations' lock and each check every step); a database
    that cannot be reached stops the start with its reason instead of N workers' tracebacks."""
    from supportgraph.cli.db import upgrade_all

    try:
        applied = upgrade_all(url)
    except Exception as exc:  # psycopg's OperationalError: no server, bad credentials...
        fail(f"PostgreSQL database not ready: {type(exc).__name__}: {exc}")
        return
    for component, step in applied:
        typer.echo(f"database: {component}: applied {step}")
