"""`supportgraph db`: the PostgreSQL database's schema (SUPPORTGRAPH_DATABASE_URL).

Every component (transcript, LangGraph's checkpointer, the store) applies its own migrations
when it opens, so a fresh database works without these commands; `db upgrade` applies them
all at once (before a deploy, with the workers stopped or not), `db status` says where a
database stands.
"""

from __future__ import annotations

from typing import Annotated

import typer

from supportgraph.cli.common import fail, settings_for

db_app = typer.Typer(help="Database: apply or inspect the PostgreSQL schema migrations.")
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="postgresql://... (default: SUPPORTGRAPH_DATABASE_URL).",
        show_default=False,
    ),
]


def _postgres_url(database_url: str | None) -> str:
    from supportgraph.backends.pgdb import is_postgres_url

    url = database_url if database_url is not None else settings_for(None).database_url
    if not is_postgres_url(url):
        fail(
            "no PostgreSQL database: set SUPPORTGRAPH_DATABASE_URL=postgresql://... (or pass "
            "--database-url); the embedded SQLite mode has no migrations to run"
        )
    return str(url)


def upgrade_all(url: str) -> list[tuple[str, str]]:
    """Every component's missing migrations: the runtime's (store, transcript, checkpointer)
    and the server's rate-limit counters (the runtime cannot import the server)."""
    from supportgraph.runtime.databases import upgrade
    from supportgraph.server.rate_limits import COMPONENT
    from supportgraph.server.rate_limits import upgrade as upgrade_rate_limits

    done = upgrade(url)
    return done + [(COMPONENT, f"{step.version} {step.name}") for step in upgrade_rate_limits(url)]


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Apply every component's migrations the database does not have yet."""
    applied = upgrade_all(_postgres_url(database_url))
    for component, step in applied:
        typer.echo(f"{component}: applied {step}")
    if not applied:
        typer.echo("up to date")


@db_app.command("status")
def db_status(database_url: DatabaseUrl = None) -> None:
    """Each component's schema version in the database, and the version this code brings."""
    from supportgraph.runtime.databases import schema_status

    for version in schema_status(_postgres_url(database_url)):
        state = (
            "up to date"
            if version.applied >= version.known
            else f"{version.known - version.applied} to apply (supportgraph db upgrade)"
        )
        typer.echo(f"{version.component:13} {version.applied}/{version.known}  {state}")
