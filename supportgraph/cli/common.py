"""What every command shares: the --data-dir option, settings, an agent for one job, errors
on stderr, and the one-line status under a reply."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

T = TypeVar("T")
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Data directory (default: SUPPORTGRAPH_DATA_DIR or the user data dir)."
    ),
]


def settings_for(data_dir: Path | None) -> Any:
    from pydantic import ValidationError

    from supportgraph.config import Settings

    try:
        return Settings(data_dir=data_dir) if data_dir else Settings()
    except ValidationError as exc:  # a readable message naming the variable, no traceback
        from supportgraph.llm.settings import describe_settings_error

        typer.secho(describe_settings_error(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def run_with_agent(data_dir: Path | None, job: Callable[[Any], Awaitable[T]]) -> T:
    from supportgraph.runtime.agent import SupportAgent

    async def main() -> T:
        async with SupportAgent.open(settings_for(data_dir)) as agent:
            return await job(agent)

    return asyncio.run(main())


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def status_line(record: Any) -> str:
    esc = record.escalation
    escalation = (
        "" if esc.action == "none" else f" | escalation {esc.action}/{esc.priority} ({esc.reason})"
    )
    awaiting = f" | awaiting {record.awaiting}" if record.awaiting else ""
    return (
        f"[{record.language}->{record.reply_language} | {record.intent} {record.confidence:.2f}"
        f" | {record.persona}{awaiting}{escalation} | {record.latency_ms:.0f} ms]"
    )


def short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"
