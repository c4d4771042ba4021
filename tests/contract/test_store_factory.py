"""Every backend answers in the shop's own spellings, and the settings pick the backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportgraph.backends.factory import open_store
from supportgraph.backends.memory import InMemoryStore
from supportgraph.backends.sqlite import SqliteStore
from supportgraph.config import Settings
from supportgraph.domain.schema import Customer, Product, Store, Variant
from tests.contract.stores import BACKENDS, DEMO_STORE, open_backend

ACCENTED = Store(
    customers=[Customer(id="C1", name="José Müller", email="Jose@Example.com", zip="28013")],
    products=[
        Product(
            id="P1",
            name="Bota",
            variants=[
                Variant(id="P1-1", options={"colour": "Marrón", "size": "42"}, stock=2),
                Variant(id="P1-2", options={"colour": "negro", "size": "42"}, stock=0),
            ],
        )
    ],
)


@pytest.mark.parametrize("kind", BACKENDS)
async def test_option_values_and_names_match_without_accents(kind: str, tmp_path: Path) -> None:
    store = open_backend(kind, ACCENTED, tmp_path / "store.db")
    for spelling in ("marron", "MARRÓN", " Marrón "):
        matches = await store.check_stock("P1", {"colour": spelling})
        assert [(v.id, ok) for v, ok in matches] == [("P1-1", True)], spelling
    negro = await store.check_stock("P1", {"colour": "Négro", "size": "42"})
    assert [(v.id, ok) for v, ok in negro] == [("P1-2", False)]
    found = await store.find_customer_by_name_zip("jose muller", "28013")
    assert found is not None and found.id == "C1"
    by_email = await store.find_customer_by_email(" JOSE@example.COM")
    assert by_email is not None and by_email.id == "C1"
    store.close()


def _settings(tmp_path: Path, backend: str) -> Settings:
    return Settings(data_dir=tmp_path, store_path=DEMO_STORE, store_backend=backend)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("backend", "kind", "kept"),
    [("sqlite", SqliteStore, True), ("memory", InMemoryStore, False)],
)
async def test_the_settings_pick_the_backend(
    tmp_path: Path, backend: str, kind: type, kept: bool
) -> None:
    """SQLite keeps <data_dir>/store.db across opens; memory starts from the file each time."""
    first = open_store(_settings(tmp_path, backend))
    assert isinstance(first, kind)
    await first.cancel_order("SG-10001", "", "k1")
    first.close()
    assert (tmp_path / "store.db").exists() is kept
    again = open_store(_settings(tmp_path, backend))
    order = await again.get_order("SG-10001")
    assert order is not None and order.status == ("cancelled" if kept else "pending")
    assert await again.write_applied("k1") is kept
    again.close()


def test_the_backend_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPPORTGRAPH_STORE_BACKEND", raising=False)
    assert Settings().store_backend == "sqlite"
    monkeypatch.setenv("SUPPORTGRAPH_STORE_BACKEND", "memory")
    assert Settings().store_backend == "memory"
    monkeypatch.setenv("SUPPORTGRAPH_STORE_BACKEND", "postgres")
    assert Settings().store_backend == "postgres"
    monkeypatch.setenv("SUPPORTGRAPH_STORE_BACKEND", "oracle")
    with pytest.raises(ValueError, match="store_backend"):
        Settings()
