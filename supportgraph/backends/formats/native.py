"""The native format: the store JSON of docs/shop-data.md (`domain/schema.py`), one file or a
folder of customers.json, products.json, orders.json (and store.json for name and currency)."""

from __future__ import annotations

import json

from supportgraph.backends.formats.base import SourceError, StoreFormat, StoreSource
from supportgraph.backends.loader import StoreFileError, load_store_file
from supportgraph.domain.schema import Store


def read_native(source: StoreSource) -> Store:
    if source.path is None or source.files:
        raise SourceError("the native format reads one FILE or FOLDER (no --orders/--products)")
    try:
        return load_store_file(source.path)
    except json.JSONDecodeError as exc:
        # The loader names records and fields; a file that is not JSON has only a position.
        where = f"line {exc.lineno}, column {exc.colno}"
        raise StoreFileError(source.path, [f"  {where}: not valid JSON ({exc.msg})"]) from exc


FORMAT = StoreFormat(
    name="native",
    summary="supportgraph's store JSON (a file, or a folder of customers/products/orders.json)",
    inputs="FILE or FOLDER",
    read=read_native,
)
