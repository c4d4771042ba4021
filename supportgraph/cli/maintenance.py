"""`supportgraph maintenance`: jobs an operator runs now and then (cron, a timer unit).

`prune` applies the retention policy (Settings.keep_checkpoints, delete_idle_after_days;
supportgraph/runtime/retention.py says what it keeps) to the conversations database of the
settings: the embedded SQLite file of the data dir, or SUPPORTGRAPH_DATABASE_URL's PostgreSQL.
Each thread is pruned under the lock its turns take, so it can run beside the server on
PostgreSQL, and on SQLite beside `serve --workers N` (whose lease locks it takes too). A
one-worker SQLite server takes no lock another process sees: prune with it stopped (each
deletion is still one transaction, but a thread could get a message while it goes).
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from supportgraph.cli.common import DataDir, settings_for

maintenance_app = typer.Typer(help="Maintenance: retention of conversations.")


@maintenance_app.command("prune")
def maintenance_prune(
    keep_checkpoints: Annotated[
        int | None,
        typer.Option(
            "--keep-checkpoints",
            min=1,
            help="Checkpoints kept per thread besides those that end a turn "
            "(default: SUPPORTGRAPH_KEEP_CHECKPOINTS, 10).",
            show_default=False,
        ),
    ] = None,
    keep_turns: Annotated[
        int | None,
        typer.Option(
            "--keep-turns",
            min=1,
            help="Keep the checkpoints that end a turn for the newest N turns only (older "
            "turns can no longer be forked; default: SUPPORTGRAPH_KEEP_TURN_CHECKPOINTS, all).",
            show_default=False,
        ),
    ] = None,
    idle_days: Annotated[
        float | None,
        typer.Option(
            "--idle-days",
            min=0,
            help="Delete threads idle for more days than this "
            "(default: SUPPORTGRAPH_DELETE_IDLE_AFTER_DAYS; unset: keep every thread).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The report as JSON (for scripts and monitoring).")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Delete old checkpoints (every turn's own is kept: replay and forks start from it) and
    threads idle for too long (never one with a message in flight or an open handoff).

    \b
      supportgraph maintenance prune --dry-run
      supportgraph maintenance prune --keep-checkpoints 5 --idle-days 90
    """
    from rich.console import Console
    from rich.table import Table

    from supportgraph.runtime.agent import SupportAgent

    # On SQLite, the lease locks `serve --workers N` takes: no thread is pruned mid-turn.
    overrides: dict[str, Any] = {"process_locks": True}
    if keep_checkpoints is not None:
        overrides["keep_checkpoints"] = keep_checkpoints
    if keep_turns is not None:
        overrides["keep_turn_checkpoints"] = keep_turns
    if idle_days is not None:
        overrides["delete_idle_after_days"] = idle_days
    settings = settings_for(data_dir).model_copy(update=overrides)

    async def main() -> Any:
        async with SupportAgent.open(settings) as agent:
            return await agent.prune(dry_run=dry_run)

    report = asyncio.run(main())
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    verb = "would be deleted" if report.dry_run else "deleted"
    idle = "never" if report.idle_days is None else f"after {report.idle_days:g} days"
    table = Table(
        show_header=False,
        title=f"prune{' (dry run: nothing deleted)' if report.dry_run else ''}: the newest "
        f"{report.keep_checkpoints} checkpoints and each turn's kept; idle threads deleted {idle}",
    )
    table.add_row(f"idle threads {verb}", str(len(report.threads_deleted)))
    table.add_row(
        "idle threads kept (message in flight or open handoff)", str(len(report.idle_kept))
    )
    table.add_row("threads pruned", str(report.threads_pruned))
    table.add_row(f"checkpoints {verb}", str(report.checkpoints_deleted))
    table.add_row(f"pending writes {verb}", str(report.writes_deleted))
    if settings.postgres_url():
        table.add_row(f"checkpoint blobs {verb}", str(report.blobs_deleted))
    else:
        table.add_row("database bytes in use before", _size(report.bytes_before))
        if not report.dry_run:
            table.add_row("database bytes in use after", _size(report.bytes_after))
    Console(width=120).print(table)
    for thread_id in report.idle_kept:
        typer.echo(f"kept idle thread {thread_id}: a message in flight or an open handoff")


def _size(value: int | None) -> str:
    return "" if value is None else f"{value:,} ({value / 1_048_576:.1f} MiB)"
