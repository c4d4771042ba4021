"""Conversations: send, chat, history, threads, and a human agent's reply."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

import typer

from supportgraph.cli.common import DataDir, fail, run_with_agent, settings_for, status_line


def send(
    text: Annotated[str, typer.Argument(help="The customer's message.")],
    thread: Annotated[str, typer.Option("--thread", help="Conversation id.")] = "cli",
    as_json: Annotated[bool, typer.Option("--json", help="Print the TurnRecord as JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Send one customer message and print the reply (or the TurnRecord with --json)."""
    from supportgraph.runtime.agent import InvalidMessage

    async def job(agent: Any) -> Any:
        return await agent.send(thread, text)

    try:
        record = run_with_agent(data_dir, job)
    except InvalidMessage as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(record.model_dump_json(indent=2))
    else:
        typer.echo(record.reply)
        typer.secho(status_line(record), dim=True, err=True)


def chat(
    thread: Annotated[
        str | None, typer.Option("--thread", help="Resume this conversation.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print each TurnRecord as JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Chat with the demo store. /agent TEXT answers as a human agent, /release hands back, /quit."""
    from rich.console import Console

    from supportgraph.runtime.agent import InvalidMessage, NoPendingHandoff, SupportAgent

    console = Console()
    errors = Console(stderr=True)  # refusals read like `send`'s: "error: ..." on stderr
    thread_id = thread or f"chat-{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        async with SupportAgent.open(settings_for(data_dir)) as agent:
            agent.warm(kb=False)
            for problem in await agent.llm_problems():
                console.print(f"[yellow]LLM mode: {problem} (answering offline meanwhile)[/yellow]")
            console.print(
                f"[bold]supportgraph[/bold] demo store, thread [cyan]{thread_id}[/cyan]. "
                "Type a message; /agent TEXT to reply as a human agent, /release, /quit."
            )
            while True:
                try:
                    line = await asyncio.to_thread(console.input, "[bold green]you>[/bold green] ")
                except (EOFError, KeyboardInterrupt):
                    break
                line = line.strip()
                if line in ("/quit", "/exit"):
                    break
                try:
                    if line.startswith("/agent "):
                        record = await agent.agent_reply(thread_id, line[7:])
                    elif line == "/release":
                        record = await agent.release(thread_id)
                    else:
                        record = await agent.send(thread_id, line)
                except (InvalidMessage, NoPendingHandoff) as exc:
                    errors.print(f"error: {exc}", style="red", markup=False)
                    continue  # the session goes on
                if as_json:
                    console.print_json(record.model_dump_json())
                    continue
                who = {"human_agent": "agent", "system": "system"}.get(record.author, "bot")
                console.print(f"[bold blue]{who}>[/bold blue] {record.reply}")
                console.print(status_line(record), style="dim", markup=False)

    asyncio.run(main())


def history(
    thread: Annotated[str, typer.Argument(help="Conversation id.")],
    data_dir: DataDir = None,
) -> None:
    """Print every TurnRecord of a thread as JSON lines."""

    async def job(agent: Any) -> Any:
        return await agent.history(thread)

    for record in run_with_agent(data_dir, job):
        typer.echo(record.model_dump_json())


def threads(data_dir: DataDir = None, limit: int = 50) -> None:
    """List conversations, newest first."""
    from rich.console import Console
    from rich.table import Table

    async def job(agent: Any) -> Any:
        return await agent.threads(limit)

    table = Table("thread", "turns", "language", "last intent", "escalation")
    for row in run_with_agent(data_dir, job):
        table.add_row(
            row["thread_id"],
            str(row["turns"]),
            row["language"] or "",
            row["last_intent"] or "",
            row["escalation"] or "",
        )
    Console().print(table)


def agent_reply(
    thread: Annotated[str, typer.Option("--thread")],
    text: Annotated[str, typer.Argument(help="The human agent's reply.")],
    data_dir: DataDir = None,
) -> None:
    """Reply as a human agent to a thread waiting in handoff (resumes it)."""
    from supportgraph.runtime.agent import InvalidMessage, NoPendingHandoff

    async def job(agent: Any) -> Any:
        return await agent.agent_reply(thread, text)

    try:
        typer.echo(run_with_agent(data_dir, job).model_dump_json(indent=2))
    except (InvalidMessage, NoPendingHandoff) as exc:
        fail(str(exc))
