"""Fixtures of the store contract suite: the demo data, and a fresh store of each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from supportgraph.backends.loader import load_store_file
from supportgraph.backends.sqlite import SqliteStore
from supportgraph.domain.schema import Store
from tests.contract.stores import BACKENDS, DEMO_STORE, POSTGRES, Backend, open_backend


@pytest.fixture(scope="module")
def full_demo() -> Store:
    """The whole demo store: for the tests that need its volume (20 pending orders to write
    to at once)."""
    return load_store_file(DEMO_STORE)


@pytest.fixture(scope="module")
def demo(full_demo: Store) -> Store:
    """The demo store cut down to its first 20 customers (the fixed C1001-C1005 among them),
    their orders and the products those orders and the tests name: the records the suite
    asserts on at a fraction of the size, so each of its ~150 fresh stores opens and compares
    in milliseconds."""
    customers = full_demo.customers[:20]
    keep = {c.id for c in customers}
    assert {f"C100{n}" for n in range(1, 6)} <= keep
    orders = [o for o in full_demo.orders if o.customer_id in keep]
    named = {item.product_id for o in orders for item in o.items} | {"P2001", "P2002", "P2016"}
    products = [p for p in full_demo.products if p.id in named]
    return full_demo.model_copy(
        update={"customers": customers, "orders": orders, "products": products}
    )


@pytest.fixture(scope="session", autouse=True)
def _postgres_databases() -> Iterator[None]:
    """The Postgres databases the suite's stores used are dropped when the session ends."""
    yield
    POSTGRES.drop_all()


@pytest.fixture(autouse=True)
def _close_postgres_stores() -> Iterator[None]:
    """After each test, the Postgres stores it opened (through `store` or open_backend) are
    closed, and their databases free for the next test."""
    yield
    POSTGRES.give_back()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, demo: Store, tmp_path: Path) -> Iterator[Backend]:
    opened = open_backend(request.param, demo, tmp_path / "store.db")
    yield opened
    opened.close()


@pytest.fixture
def sqlite(full_demo: Store, tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "store.db")
    opened.replace_all(full_demo)
    yield opened
    opened.close()
