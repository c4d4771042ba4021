"""What a store format is: a name, the inputs it reads, and a reader that returns a validated
`Store` or raises `StoreFileError` naming every problem (nothing is imported then).

A format module in this package defines `FORMAT = StoreFormat(...)`; the registry
(`formats/__init__.py`) finds it, and `supportgraph store load --format <name>` offers it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from supportgraph.backends.loader import StoreFileError
from supportgraph.domain.schema import Store


@dataclass(frozen=True)
class StoreSource:
    """Where a store comes from: a file or folder (`path`) and/or named files (`files`, e.g.
    {"orders": orders_export.csv, "products": products_export.csv}). A format says which it
    needs; a folder lets it find its own files by their usual names."""

    path: Path | None = None
    files: Mapping[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreFormat:
    name: str  # the value of `store load --format`
    summary: str  # one line for `store formats`
    inputs: str  # what to pass, for the help text: "FILE or FOLDER", "--orders and --products"
    read: Callable[[StoreSource], Store]


class SourceError(ValueError):
    """The inputs given do not fit the format (a folder where it reads files, a file missing):
    a usage error, reported before anything is read."""


class Problems:
    """Problems found while reading, each naming its place; raised together, or not at all."""

    LIMIT = 30

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.found.append(f"  {where}: {message}")

    def __bool__(self) -> bool:
        return bool(self.found)

    def raise_if_any(self, source: Path) -> None:
        if not self.found:
            return
        shown = self.found[: self.LIMIT]
        if len(self.found) > self.LIMIT:
            shown.append(f"  ... and {len(self.found) - self.LIMIT} more")
        raise StoreFileError(source, shown)
