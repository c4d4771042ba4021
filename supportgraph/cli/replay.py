"""`supportgraph replay`: a thread's timeline, fork at a turn, re-run, export as an eval case."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from supportgraph.cli.common import DataDir, fail, run_with_agent, short, status_line

replay_app = typer.Typer(help="Replay and debug conversation threads.")


@replay_app.command("show")
def replay_show(
    thread: Annotated[str, typer.Argument(help="Conversation id.")],
    turn: Annotated[
        int | None, typer.Option("--turn", help="Node-level detail of one turn.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The timeline as JSON.")] = False,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Do not redact personal data.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """The thread's timeline: turns, node paths, changes, tools, escalations, checkpoints."""
    from rich.console import Console
    from rich.table import Table

    from supportgraph.replay.timeline import redact

    async def job(agent: Any) -> Any:
        return await agent.timeline(thread)

    timeline = run_with_agent(data_dir, job)
    if timeline is None:
        fail(f"thread {thread} not found")
        return
    timeline = timeline if show_pii else redact(timeline)
    if as_json:
        typer.echo(json.dumps(timeline, indent=1, ensure_ascii=False, default=str))
        return
    console = Console(width=160)
    if turn is None:
        table = Table(
            "turn",
            "who",
            "customer",
            "reply",
            "intent",
            "path",
            "tools",
            "escalation",
            title=f"thread {thread}",
        )
        for t in timeline["turns"]:
            esc = t["escalation"]
            table.add_row(
                str(t["turn"]),
                t["author"],
                short(t["customer_text"], 40),
                short(t["reply"], 50),
                t["intent"],
                " > ".join(t["path"]),
                ", ".join(c["name"] for c in t["tool_calls"]),
                ""
                if esc["action"] == "none"
                else f"{esc['action']}/{esc['priority']} {esc['reason']}",
            )
        console.print(table)
        return
    for t in (t for t in timeline["turns"] if t["turn"] == turn):
        console.print(
            f"[bold]turn {t['turn']}[/bold] ({t['author']}) checkpoint {t['checkpoint_id']}  "
            f"{t['latency_ms']:.1f} ms\n  customer: {t['customer_text']}\n  reply: {t['reply']}"
        )
        nodes = Table("node", "ms", "changed", "from", "to")
        for step in t["nodes"]:
            changes = step["changes"] or {"": {"from": "", "to": ""}}
            for i, (field, change) in enumerate(changes.items()):
                nodes.add_row(
                    step["node"] if i == 0 else "",
                    f"{step['ms']:.2f}" if i == 0 else "",
                    field,
                    short(change.get("from", ""), 40),
                    short(change.get("to", change.get("appended")), 50),
                )
        console.print(nodes)
        for call in t["tool_calls"]:
            console.print(
                f"  tool {call['name']}({short(call['args'], 80)}) -> "
                f"{'ok' if call['ok'] else 'refused'}: {call['result_summary']}"
            )
        if t["retrieved"]:
            console.print(f"  retrieved: {', '.join(t['retrieved'])}")


@replay_app.command("fork")
def replay_fork(
    thread: Annotated[str, typer.Argument(help="Conversation id to fork.")],
    text: Annotated[str, typer.Argument(help="The different customer message.")],
    turn: Annotated[int, typer.Option("--turn", help="The turn to replace (1-based).")],
    branch: Annotated[
        str | None, typer.Option("--branch", help="Id of the new branch thread.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Do not redact personal data.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Send a different message at turn N and continue on a new branch thread (the original
    thread is not changed; the branch writes to a sandbox copy of the store)."""
    from supportgraph.replay.timeline import redact
    from supportgraph.runtime.agent import InvalidMessage, ReplayError

    async def job(agent: Any) -> Any:
        return await agent.fork(thread, turn, text, branch)

    try:
        result = run_with_agent(data_dir, job)
    except (ReplayError, InvalidMessage) as exc:
        fail(str(exc))
        return
    out = result.to_dict()
    out = out if show_pii else redact(out)
    if as_json:
        typer.echo(json.dumps(out, indent=1, ensure_ascii=False, default=str))
        return
    typer.echo(
        f"branch {result.branch_id} (from {thread} turn {turn}, checkpoint "
        f"{result.parent_checkpoint or '-'})\n{out['record']['reply']}\n"
        + status_line(result.record)
    )
    typer.echo(f"continue it with: supportgraph send --thread {result.branch_id} MESSAGE")


@replay_app.command("rerun")
def replay_rerun(
    thread: Annotated[str, typer.Argument(help="Conversation id to re-run.")],
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Do not redact personal data.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Re-run the thread's messages through the current code in a sandbox (a copy of the
    store as it was); report what diverged turn by turn. Exit 1 when anything did."""
    from rich.console import Console
    from rich.table import Table

    from supportgraph.replay.timeline import redact
    from supportgraph.runtime.agent import ReplayError

    async def job(agent: Any) -> Any:
        return await agent.rerun(thread)

    try:
        report = run_with_agent(data_dir, job)
    except ReplayError as exc:
        fail(str(exc))
        return
    data = report.to_dict()
    data = data if show_pii else redact(data)
    if as_json:
        typer.echo(json.dumps(data, indent=1, ensure_ascii=False, default=str))
    else:
        console = Console(width=160)
        table = Table("#", "turn", "sent", "result", "field", "recorded", "rerun", title=thread)
        for item in data["turns"]:
            fields = item["fields"] or {"": {}}
            for i, (name, change) in enumerate(fields.items()):
                table.add_row(
                    str(item["index"]) if i == 0 else "",
                    str(item["turn"]) if i == 0 else "",
                    short(item["text"], 30) if i == 0 else "",
                    ("[red]diverged[/red]" if item["diverged"] else "[green]same[/green]")
                    if i == 0
                    else "",
                    name,
                    short(change.get("recorded", ""), 40) if name != "reply" else "",
                    short(change.get("diff") or change.get("rerun", ""), 60),
                )
        console.print(table)
        for note in data["notes"]:
            console.print(f"note: {note}")
        turns = data["divergent_turns"]
        console.print(
            f"diverged at {len(turns)} of {len(data['turns'])} turn(s): {turns}"
            if turns
            else f"identical: {len(data['turns'])} turn(s) in {data['seconds']:.2f} s"
        )
    if report.diverged:
        raise typer.Exit(1)


@replay_app.command("export")
def replay_export(
    thread: Annotated[str, typer.Argument(help="Conversation id to export.")],
    case_id: Annotated[str | None, typer.Option("--id", help="The case id.")] = None,
    store_out: Annotated[
        Path | None,
        typer.Option(
            "--store-out", help="Also write the store as it was to FILE and use it in the case."
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Print the thread as an eval-suite case (YAML), expectations taken from its turns."""
    from supportgraph.replay.export import case_yaml, export_case
    from supportgraph.runtime.agent import ReplayError

    async def job(agent: Any) -> Any:
        return await export_case(agent, thread, case_id, store_out)

    try:
        case = run_with_agent(data_dir, job)
    except (ReplayError, ValueError) as exc:
        fail(str(exc))
        return
    sys.stdout.write(case_yaml(case))
