"""`supportgraph ...`: the command line, one module per command group.

    chat.py    send, chat, history, threads, agent-reply
    serve.py   serve
    evals.py   eval
    identity.py  identity-token
    replay.py  replay show / fork / rerun / export
    kb.py      kb ingest
    store.py   store load / export
    maintenance.py  maintenance prune (retention)
    common.py  --data-dir, settings, an agent for one job, errors, the status line

A new command is a function in its group's module, registered below (the order here is the
order of `supportgraph --help`); a new group is a module with its own Typer, added below.
"""

from __future__ import annotations

import typer

from supportgraph.cli import chat, evals, identity, serve
from supportgraph.cli.db import db_app
from supportgraph.cli.kb import kb_app
from supportgraph.cli.maintenance import maintenance_app
from supportgraph.cli.replay import replay_app
from supportgraph.cli.store import store_app

app = typer.Typer(
    help="supportgraph: customer-support chat agents as a LangGraph state machine.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(kb_app, name="kb")
app.add_typer(store_app, name="store")
app.add_typer(replay_app, name="replay")
app.add_typer(db_app, name="db")
app.add_typer(maintenance_app, name="maintenance")

app.command()(chat.send)
app.command()(chat.chat)
app.command()(chat.history)
app.command()(chat.threads)
app.command("agent-reply")(chat.agent_reply)
app.command()(serve.serve)
app.command("eval")(evals.eval_suites)
app.command("identity-token")(identity.identity_token)

__all__ = ["app"]
