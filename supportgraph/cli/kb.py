"""`supportgraph kb`: the knowledge base index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from supportgraph.cli.common import DataDir, fail, settings_for

kb_app = typer.Typer(help="Knowledge base: ingest markdown documents into Chroma.")


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
