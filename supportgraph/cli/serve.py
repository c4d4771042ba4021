"""`supportgraph serve`: the HTTP server (uvicorn), with demo keys printed in demo mode."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from supportgraph.cli.common import DataDir, settings_for


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (1 keeps per-thread ordering in one process).")
    ] = 1,
    data_dir: DataDir = None,
) -> None:
    """Run the HTTP server: API under /v1, chat page at /, agent console at /agent."""
    import os

    import uvicorn

    from supportgraph.server.auth import KeyRing
    from supportgraph.server.observability import setup_json_logging

    settings = settings_for(data_dir)
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
    if workers > 1:  # turns on one thread must stay ordered across worker processes
        os.environ["SUPPORTGRAPH_PROCESS_LOCKS"] = "true"
        typer.secho(
            "warning: --workers > 1 shares one SQLite database between processes; under heavy "
            "load this fails with 'database is locked' errors (bench/server_load.py). "
            "Use 1 worker with SQLite.",
            fg=typer.colors.YELLOW,
            err=True,
        )
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
