"""Opening the store the settings name (`Settings.store_backend`, env SUPPORTGRAPH_STORE_BACKEND).

- "sqlite" (default): the file `<data_dir>/store.db`, loaded from the brand's store file on
  first use and kept across restarts.
- "memory": the brand's store file loaded into memory; every write is lost on close (demos,
  experiments, tests). Replay forks/reruns and privacy export/erase need the SQLite store.
- "postgres": the database of `Settings.postgres_url()` (SUPPORTGRAPH_DATABASE_URL), shared by
  every worker process; loaded from the brand's store file when it is empty. It is also the
  default when that URL is set and `store_backend` was not chosen.

A new backend is one module implementing `protocols.StoreBackend` on `domain.rules`, one
branch here, one value of `Settings.store_backend`, and its entry in tests/contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from supportgraph.backends.loader import load_store_file
from supportgraph.backends.memory import InMemoryStore
from supportgraph.backends.pgdb import driver
from supportgraph.backends.protocols import ManagedStore
from supportgraph.backends.sqlite import SqliteStore


class StoreSettings(Protocol):
    """What of `supportgraph.config.Settings` picks and loads the store (backends do not
    import config: it pulls in the LLM settings)."""

    @property
    def store_backend(self) -> str: ...
    @property
    def model_fields_set(self) -> set[str]: ...
    def resolved_data_dir(self) -> Path: ...
    def resolved_store_path(self) -> Path: ...
    def postgres_url(self) -> str | None: ...


def store_kind(settings: StoreSettings) -> str:
    """The backend the settings name: `store_backend` when it was set (argument or
    environment), else postgres when a PostgreSQL URL is configured, else its default."""
    chosen = "store_backend" in settings.model_fields_set
    if not chosen and settings.store_backend == "sqlite" and settings.postgres_url():
        return "postgres"
    return settings.store_backend


def open_store(settings: StoreSettings) -> ManagedStore:
    """The store the settings name, loaded from the brand's store file when it is new."""
    kind = store_kind(settings)
    if kind == "memory":
        return InMemoryStore(load_store_file(settings.resolved_store_path()))
    if kind == "postgres":
        return _open_postgres(settings)
    if kind != "sqlite":
        raise ValueError(f"unknown store backend {kind!r}: sqlite, memory or postgres")
    store = SqliteStore(settings.resolved_data_dir() / "store.db")
    if store.is_empty():
        store.replace_all(load_store_file(settings.resolved_store_path()))
    return store


def _open_postgres(settings: StoreSettings) -> ManagedStore:
    url = settings.postgres_url()
    if url is None:
        raise ValueError(
            "store_backend postgres needs SUPPORTGRAPH_DATABASE_URL=postgresql://user@host/db"
        )
    driver()  # a clear error naming the extra when psycopg is not installed
    from supportgraph.backends.postgres import PostgresStore  # the driver loads only here

    store = PostgresStore(url)
    if store.is_empty():
        # load_if_empty re-checks under a lock: workers starting together load it once.
        store.load_if_empty(load_store_file(settings.resolved_store_path()))
    return store
