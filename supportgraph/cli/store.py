"""`supportgraph store`: load a shop's data (in any format of backends/formats), export the
store, list the formats."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from supportgraph.cli.common import DataDir, fail, settings_for

store_app = typer.Typer(help="Store: load or export customers, products and orders.")


@store_app.command("load")
def store_load(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Store file or folder: the native JSON, or a folder of a format's export files."
        ),
    ] = None,
    format_name: Annotated[
        str,
        typer.Option("--format", "-f", help="native (default) or shopify: `store formats`."),
    ] = "native",
    orders: Annotated[
        Path | None, typer.Option("--orders", help="The orders export (e.g. Shopify's CSV).")
    ] = None,
    products: Annotated[
        Path | None, typer.Option("--products", help="The products export (e.g. Shopify's CSV).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Read, validate and import a store; on any problem nothing is imported and the store
    keeps what it had.

    \b
      supportgraph store load store.json
      supportgraph store load -f shopify --orders orders_export.csv --products products_export.csv
      supportgraph store load --format shopify ./shopify-export/
    """
    from supportgraph.backends.formats import SourceError, StoreSource, get_format
    from supportgraph.backends.loader import StoreFileError
    from supportgraph.backends.sqlite import SqliteStore

    try:
        fmt = get_format(format_name)
    except KeyError as exc:
        fail(str(exc.args[0]))
        return
    files = {k: v for k, v in (("orders", orders), ("products", products)) if v is not None}
    try:
        store = fmt.read(StoreSource(path=path, files=files))
    except SourceError as exc:
        fail(str(exc))
        return
    except FileNotFoundError as exc:
        fail(f"{exc.filename or path} not found")
        return
    except StoreFileError as exc:
        fail(str(exc))
        return
    db = SqliteStore(settings_for(data_dir).resolved_data_dir() / "store.db")
    db.replace_all(store)
    typer.echo(
        f"imported {len(store.customers)} customers, {len(store.products)} products, "
        f"{len(store.orders)} orders ({store.currency})"
    )


@store_app.command("formats")
def store_formats() -> None:
    """The formats `store load --format` reads."""
    from supportgraph.backends.formats import available

    for fmt in available().values():
        typer.echo(f"{fmt.name:10} {fmt.summary}\n{'':10} reads {fmt.inputs}")


@store_app.command("export")
def store_export(data_dir: DataDir = None) -> None:
    """Print the current store as JSON (the same format `store load` accepts)."""
    from supportgraph.backends.factory import open_store

    store = open_store(settings_for(data_dir))
    sys.stdout.write(store.export().model_dump_json(indent=1, exclude_none=True) + "\n")
