"""Fixtures of the store contract suite: the demo data, and a fresh store of each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from supportgraph.backends.loader import load_store_file
from supportgraph.backends.sqlite import SqliteStore
from supportgraph.domain.schema import Store
from tests.contract.stores import BACKENDS, DEMO_STORE, Backend, open_backend


@pytest.fixture(scope="module")
def demo() -> Store:
    return load_store_file(DEMO_STORE)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, demo: Store, tmp_path: Path) -> Iterator[Backend]:
    opened = open_backend(request.param, demo, tmp_path / "store.db")
    yield opened
    opened.close()


@pytest.fixture
def sqlite(demo: Store, tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "store.db")
    opened.replace_all(demo)
    yield opened
    opened.close()
