"""The demo store is the output of its generator (scripts/demo_store), and the agent loads it.

The generator is a build script outside the installed package: these tests import it in-process
(it is a few hundred milliseconds of seeded drawing) and compare its bytes with the shipped file,
so a hand edit of store.json or a change to the generator's tables cannot go unnoticed.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from supportgraph.backends.loader import load_store_file
from supportgraph.config import Settings

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "supportgraph" / "brands" / "demo" / "store.json"


@pytest.fixture(scope="module")
def generator() -> Iterator[ModuleType]:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        yield importlib.import_module("demo_store.generate")
    finally:
        sys.path.remove(str(REPO / "scripts"))


def test_generator_reproduces_the_shipped_store_byte_for_byte(generator: ModuleType) -> None:
    text, _ = generator.render()
    assert text.encode("utf-8") == SHIPPED.read_bytes()


def test_generator_writes_the_file_and_check_spots_a_stale_one(
    generator: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "store.json"
    assert generator.main(["--output", str(out)]) == 0
    assert out.read_bytes() == SHIPPED.read_bytes()
    assert "220 orders" in capsys.readouterr().out
    assert generator.main(["--output", str(out), "--check"]) == 0

    out.write_text(out.read_text(encoding="utf-8").replace("Anna Schmidt", "Anna Schmid"))
    assert generator.main(["--output", str(out), "--check"]) == 1
    assert "differs" in capsys.readouterr().out


def test_the_agent_loads_the_shipped_store_with_its_fixed_records() -> None:
    path = Settings().resolved_store_path()
    assert path.resolve() == SHIPPED.resolve()  # the default brand's store is this file
    store = load_store_file(path)
    customers = {c.id: c for c in store.customers}
    orders = {o.id: o for o in store.orders}
    assert (len(customers), len(store.products), len(orders)) == (60, 45, 220)
    assert customers["C1001"].email == "anna.schmidt@example.com"
    assert orders["SG-10003"].status == "delivered"
    assert orders["SG-10005"].payments[-1].status == "failed"
    trail = next(p for p in store.products if p.id == "P2001")
    stock = {(v.options["size"], v.options["colour"]): v.stock for v in trail.variants}
    assert (stock[("42", "black")], stock[("42", "white")], stock[("43", "black")]) == (0, 5, 3)


def test_the_generator_is_not_part_of_the_package() -> None:
    assert importlib.util.find_spec("supportgraph.brands.demo.generate") is None
