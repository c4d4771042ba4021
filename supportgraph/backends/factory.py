"""Opening the store the settings name (`Settings.store_backend`, env SUPPORTGRAPH_STORE_BACKEND).

- "sqlite" (default): the file `<data_dir>/store.db`, loaded from the brand's store file on
  first use and kept across restarts.
- "memory": the brand's store file loaded into memory; every write is lost on close (demos,
  experiments, tests). Replay forks/reruns and privacy export/erase need the SQLite store.

A new backend is one module implementing `protocols.StoreBackend` on `domain.rules`, one
branch here, one value of `Settings.store_backend`, and its entry in tests/contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from supportgraph.backends.loader import load_store_file
from supportgraph.backends.memory import InMemoryStore
from supportgraph.backends.protocols import ManagedStore
from supportgraph.backends.sqlite import SqliteStore


class StoreSettings(Protocol):
    """What of `supportgraph.config.Settings` picks and loads the store (backends do not
    import config: it pulls in the LLM settings)."""

    @property
    def store_backend(self) -> str: ...
    def resolved_data_dir(self) -> Path: ...
    def resolved_store_path(self) -> Path: ...


def open_store(settings: StoreSettings) -> ManagedStore:
    """The store the settings name, loaded from the brand's store file when it is new."""
    kind = settings.store_backend
    if kind == "memory":
        return InMemoryStore(load_store_file(settings.resolved_store_path()))
    if kind != "sqlite":
        raise ValueError(f"unknown store backend {kind!r}: sqlite or memory")
    store = SqliteStore(settings.resolved_data_dir() / "store.db")
    if store.is_empty():
        store.replace_all(load_store_file(settings.resolved_store_path()))
    return store
