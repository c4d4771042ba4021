"""`supportgraph store`: load a store file, export the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from supportgraph.cli.common import DataDir, fail, settings_for

store_app = typer.Typer(help="Store: load or export customers, products and orders.")


@store_app.command("load")
def store_load(
    file: Annotated[
        Path, typer.Argument(help="Store JSON file (or folder) in the documented format.")
    ],
    data_dir: DataDir = None,
) -> None:
    """Validate and import a store; on any invalid record nothing is imported."""
    from supportgraph.backends.loader import StoreFileError, load_store_file
    from supportgraph.backends.sqlite import SqliteStore

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
    from supportgraph.backends.factory import open_store

    store = open_store(settings_for(data_dir))
    sys.stdout.write(store.export().model_dump_json(indent=1, exclude_none=True) + "\n")
