"""The backends the contract suite runs against, and helpers to read a store's whole state."""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest

import supportgraph
from supportgraph.backends.memory import InMemoryStore
from supportgraph.backends.protocols import WriteRefused
from supportgraph.backends.sqlite import SqliteStore
from supportgraph.domain.schema import Address, Order, Store

DEMO_STORE = Path(supportgraph.__file__).parent / "brands" / "demo" / "store.json"
NEW_ADDRESS = Address(line1="Marienplatz 1", city="München", zip="80331", country="DE")

Backend = SqliteStore | InMemoryStore
BACKENDS = ("sqlite", "memory")  # a new backend: its name here and its branch in open_backend


def open_backend(kind: str, demo: Store, path: Path) -> Backend:
    """A fresh store of this kind holding the demo data (`path`: where a file-backed one lives)."""
    if kind == "sqlite":
        sqlite = SqliteStore(path)
        sqlite.replace_all(demo)
        return sqlite
    if kind == "memory":
        return InMemoryStore(demo)  # it keeps copies: the shared demo is never changed
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
