"""Store formats: the ways a shop's data can be read into a `Store` (docs/shop-data.md).

One module (or package) per format, each defining `FORMAT = StoreFormat(...)` (`base.py`):
`native` (the documented JSON), `shopify` (Shopify's orders and products CSV exports). They are
discovered, so a new format is one new module; `supportgraph store load --format <name>` and
`supportgraph store formats` list whatever is here.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from supportgraph.backends.formats.base import SourceError, StoreFormat, StoreSource

__all__ = ["SourceError", "StoreFormat", "StoreSource", "available", "get_format"]

# Modules of this package that are helpers, not formats.
HELPERS = {"base", "csv_table"}


@cache
def available() -> dict[str, StoreFormat]:
    """Every format in this package, by name."""
    found: dict[str, StoreFormat] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name in HELPERS or module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        fmt = getattr(loaded, "FORMAT", None)
        if not isinstance(fmt, StoreFormat):
            raise TypeError(f"{loaded.__name__} defines no FORMAT = StoreFormat(...)")
        if fmt.name in found:
            raise ValueError(f"two store formats are named {fmt.name!r}")
        found[fmt.name] = fmt
    return found


def get_format(name: str) -> StoreFormat:
    formats = available()
    if name not in formats:
        raise KeyError(f"unknown store format {name!r}: one of {', '.join(sorted(formats))}")
    return formats[name]
