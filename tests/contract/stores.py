"""The backends the contract suite runs against, and helpers to read a store's whole state."""

from __future__ import annotations

from collections.abc import Awaitable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

import supportgraph
from supportgraph.backends.memory import InMemoryStore
from supportgraph.backends.postgres import PostgresStore
from supportgraph.backends.protocols import WriteRefused
from supportgraph.backends.sqlite import SqliteStore
from supportgraph.domain.schema import Address, Order, Store
from tests.pg import fresh_database

DEMO_STORE = Path(supportgraph.__file__).parent / "brands" / "demo" / "store.json"
NEW_ADDRESS = Address(line1="Marienplatz 1", city="München", zip="80331", country="DE")

Backend = SqliteStore | InMemoryStore | PostgresStore
# A new backend: its name here and its branch in open_backend.
BACKENDS = ("sqlite", "memory", "postgres")


class PostgresDatabases:
    """The databases under the suite's Postgres stores. Creating and dropping a database costs
    a second or more here, so each one is made once per test process and reused: a store
    closed after its test gives its database back, and the next store's `replace_all` empties
    every table of it (the same reset `store load` relies on), so it starts from the demo data
    and nothing else. Dropped at the end of the session."""

    def __init__(self) -> None:
        self._made = ExitStack()  # every database made: dropped by `drop_all`
        self._free: list[str] = []
        self._lent: list[tuple[PostgresStore, str]] = []

    def open(self, demo: Store) -> PostgresStore:
        url = self._free.pop() if self._free else self._made.enter_context(fresh_database())
        store = PostgresStore(url)
        self._lent.append((store, url))
        store.replace_all(demo)
        return store

    def give_back(self) -> None:
        """Close every store opened since the last call; their databases can be reused."""
        while self._lent:
            store, url = self._lent.pop()
            store.close()
            self._free.append(url)

    def drop_all(self) -> None:
        self.give_back()
        self._free.clear()
        self._made.close()


POSTGRES = PostgresDatabases()


def open_backend(kind: str, demo: Store, path: Path) -> Backend:
    """A fresh store of this kind holding the demo data (`path`: where a file-backed one lives)."""
    if kind == "sqlite":
        sqlite = SqliteStore(path)
        sqlite.replace_all(demo)
        return sqlite
    if kind == "memory":
        return InMemoryStore(demo)  # it keeps copies: the shared demo is never changed
    if kind == "postgres":
        return POSTGRES.open(demo)  # closed after the test by the contract conftest
    raise ValueError(kind)


def state(store: Backend) -> dict[str, Any]:
    """Everything a write can change, to prove a refusal changed nothing."""
    return {
        "store": store.export().model_dump(),
        "writes": store.writes_log(),
        "interactions": store.interactions(),
        "restock": sorted(store.restock_subscriptions()),
    }


async def order(store: Backend, order_id: str) -> Order:
    found = await store.get_order(order_id)
    assert found is not None
    return found


async def stock(store: Backend, product_id: str) -> dict[str, int]:
    product = await store.get_product(product_id)
    assert product is not None
    counts = {v.id: v.stock for v in product.variants}
    return {k: v for k, v in counts.items() if v is not None}


async def refused(store: Backend, write: Awaitable[Any], reason: str) -> None:
    """The write is refused with `reason` and leaves every record as it was."""
    before = state(store)
    with pytest.raises(WriteRefused) as info:
        await write
    assert info.value.reason == reason
    assert state(store) == before
