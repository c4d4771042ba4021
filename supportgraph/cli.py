"""`supportgraph ...`: chat, send, history, threads, human replies, kb and store admin."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

app = typer.Typer(
    help="supportgraph: customer-support chat agents as a LangGraph state machine.",
    no_args_is_help=True,
    add_completion=False,
)
kb_app = typer.Typer(help="Knowledge base: ingest markdown documents into Chroma.")
store_app = typer.Typer(help="Store: load or export customers, products and orders.")
app.add_typer(kb_app, name="kb")
app.add_typer(store_app, name="store")
replay_app = typer.Typer(help="Replay and debug conversation threads.")
app.add_typer(replay_app, name="replay")

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


@app.command()
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


@app.command()
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
    thread_id = thread or f"chat-{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        async with SupportAgent.open(settings_for(data_dir)) as agent:
            agent.deps.warm(kb=False)
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
                    console.print(f"[red]{exc}[/red]")
                    continue
                if as_json:
                    console.print_json(record.model_dump_json())
                    continue
                who = {"human_agent": "agent", "system": "system"}.get(record.author, "bot")
                console.print(f"[bold blue]{who}>[/bold blue] {record.reply}")
                console.print(status_line(record), style="dim", markup=False)

    asyncio.run(main())


@app.command()
def history(
    thread: Annotated[str, typer.Argument(help="Conversation id.")],
    data_dir: DataDir = None,
) -> None:
    """Print every TurnRecord of a thread as JSON lines."""

    async def job(agent: Any) -> Any:
        return await agent.history(thread)

    for record in run_with_agent(data_dir, job):
        typer.echo(record.model_dump_json())


@app.command()
def threads(data_dir: DataDir = None, limit: int = 50) -> None:
    """List conversations, newest first."""
    from rich.console import Console
    from rich.table import Table

    async def job(agent: Any) -> Any:
        return await agent.transcript.threads(limit)

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


@app.command("agent-reply")
def agent_reply(
    thread: Annotated[str, typer.Option("--thread")],
    text: Annotated[str, typer.Argument(help="The human agent's reply.")],
    data_dir: DataDir = None,
) -> None:
    """Reply as a human agent to a thread waiting in handoff (resumes it)."""
    from supportgraph.runtime.agent import NoPendingHandoff

    async def job(agent: Any) -> Any:
        return await agent.agent_reply(thread, text)

    try:
        typer.echo(run_with_agent(data_dir, job).model_dump_json(indent=2))
    except NoPendingHandoff as exc:
        fail(str(exc))


@app.command()
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


@app.command("eval")
def eval_suites(
    paths: Annotated[list[Path], typer.Argument(help="Suite files or folders of *.yaml.")],
    tags: Annotated[
        list[str] | None, typer.Option("--tags", help="Only cases with one of these tags.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write eval-report.json and .md here.")
    ] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here.")] = None,
    concurrency: Annotated[int, typer.Option(help="Cases run at once.")] = 4,
    data_dir: DataDir = None,
) -> None:
    """Run eval suites against fresh sandbox stores; exit 1 if any expectation fails."""
    from rich.console import Console
    from rich.table import Table

    from supportgraph.evals.report import aggregate, case_row, write_junit, write_reports
    from supportgraph.evals.runner import run_cases
    from supportgraph.evals.suite import SuiteError, load_cases

    try:
        cases = load_cases(paths, tags)
    except SuiteError as exc:
        fail(str(exc))
        return
    if not cases:
        fail("no cases found")
    results = asyncio.run(run_cases(cases, settings_for(data_dir), concurrency))
    console = Console(width=160)
    table = Table("case", "turns", "result", "first failing expectation")
    for result in results:
        row = case_row(result)
        table.add_row(
            row["id"],
            str(row["turns"]),
            "[green]pass[/green]" if row["passed"] else "[red]FAIL[/red]",
            row["first_failure"][:200],
        )
    console.print(table)
    summary = write_reports(results, report) if report else aggregate(results)
    if junit:
        write_junit(results, junit)
    console.print(" ".join(f"{k}={v}" for k, v in summary.items()))
    console.print(f"{summary['passed']} passed, {summary['failed']} failed")
    if summary["failed"]:
        raise typer.Exit(1)


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


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

    from supportgraph.replay.timeline import build_timeline

    async def job(agent: Any) -> Any:
        return await build_timeline(agent, thread, show_pii)

    timeline = run_with_agent(data_dir, job)
    if timeline is None:
        fail(f"thread {thread} not found")
        return
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
                _short(t["customer_text"], 40),
                _short(t["reply"], 50),
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
                    _short(change.get("from", ""), 40),
                    _short(change.get("to", change.get("appended")), 50),
                )
        console.print(nodes)
        for call in t["tool_calls"]:
            console.print(
                f"  tool {call['name']}({_short(call['args'], 80)}) -> "
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
    from supportgraph.replay.fork import fork_thread
    from supportgraph.replay.history import ReplayError
    from supportgraph.replay.timeline import redact
    from supportgraph.runtime.agent import InvalidMessage

    async def job(agent: Any) -> Any:
        return await fork_thread(agent, thread, turn, text, branch)

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

    from supportgraph.replay.history import ReplayError
    from supportgraph.replay.rerun import rerun_thread
    from supportgraph.replay.timeline import redact

    try:
        report = asyncio.run(rerun_thread(settings_for(data_dir), thread))
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
                    _short(item["text"], 30) if i == 0 else "",
                    ("[red]diverged[/red]" if item["diverged"] else "[green]same[/green]")
                    if i == 0
                    else "",
                    name,
                    _short(change.get("recorded", ""), 40) if name != "reply" else "",
                    _short(change.get("diff") or change.get("rerun", ""), 60),
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
    from supportgraph.replay.export import build_case, case_yaml
    from supportgraph.replay.history import ReplayError, load_history

    async def job(agent: Any) -> Any:
        history = await load_history(agent, thread)
        return build_case(
            history, agent.deps.store, agent.settings.resolved_store_path(), case_id, store_out
        )

    try:
        case = run_with_agent(data_dir, job)
    except (ReplayError, ValueError) as exc:
        fail(str(exc))
        return
    sys.stdout.write(case_yaml(case))


@kb_app.command("ingest")
def kb_ingest(
    directory: Annotated[Path, typer.Argument(help="Folder of <lang>/<topic>.md documents.")],
    data_dir: DataDir = None,
) -> None:
    """Re-index a KB folder (idempotent: unchanged chunks are kept, removed ones deleted)."""
    from supportgraph.knowledge.index import KnowledgeBase

    if not directory.is_dir():
        fail(f"{directory} is not a directory")
    kb = KnowledgeBase(settings_for(data_dir).resolved_data_dir() / "kb")
    report = kb.ingest(directory)
    typer.echo(json.dumps(report.__dict__))


@store_app.command("load")
def store_load(
    file: Annotated[
        Path, typer.Argument(help="Store JSON file (or folder) in the documented format.")
    ],
    data_dir: DataDir = None,
) -> None:
    """Validate and import a store; on any invalid record nothing is imported."""
    from supportgraph.backends.sqlite import SqliteStore, StoreFileError, load_store_file

    try:
        store = load_store_file(file)
    except FileNotFoundError:
        fail(f"{file} not found")
        return
    except StoreFileError as exc:
        fail(str(exc))
        return
    except json.JSONDecodeError as exc:
        fail(f"{file}: not valid JSON ({exc})")
        return
    db = SqliteStore(settings_for(data_dir).resolved_data_dir() / "store.db")
    db.replace_all(store)
    typer.echo(
        f"imported {len(store.customers)} customers, {len(store.products)} products, "
        f"{len(store.orders)} orders"
    )


@store_app.command("export")
def store_export(data_dir: DataDir = None) -> None:
    """Print the current store as JSON (the same format `store load` accepts)."""
    from supportgraph.runtime.agent import open_store

    store = open_store(settings_for(data_dir))
    sys.stdout.write(store.export().model_dump_json(indent=1, exclude_none=True) + "\n")


if __name__ == "__main__":
    app()
