"""The one variant matcher, stock availability, the order total and order id spellings."""

from __future__ import annotations

import pytest

from supportgraph.domain.catalogue import (
    find_variant,
    in_stock,
    matching_variants,
    order_total,
    same_option,
    variant_matches,
)
from supportgraph.domain.lookup import email_key, reference_key, zip_of
from supportgraph.domain.schema import Address, Customer, Order, OrderItem, Product, Variant
from supportgraph.domain.text import normalize, strip_accents

BOOT = Product(
    id="P1",
    name="Bota",
    variants=[
        Variant(id="P1-1", options={"colour": "Marrón", "size": "42"}, stock=3),
        Variant(id="P1-2", options={"colour": "Marrón", "size": "43"}, stock=0),
        Variant(id="P1-3", options={"colour": "black", "size": "43"}, available=True),
        Variant(id="P1-4", options={"colour": "black"}, available=False),
    ],
)


def test_normalize_lowercases_strips_accents_and_collapses_spaces() -> None:
    assert normalize("  Marrón   CLARO ") == "marron claro"
    assert strip_accents("Ñandú Größe") == "Nandu Große"


@pytest.mark.parametrize("spelling", ["marron", "MARRÓN", " Marrón ", "marrón"])
def test_option_values_match_whatever_the_case_and_accents(spelling: str) -> None:
    assert same_option("Marrón", spelling)
    assert not same_option("Marrón", "marrones")


def test_a_variant_must_have_every_wanted_option() -> None:
    variant = BOOT.variants[0]
    assert variant_matches(variant, {"colour": "marron", "size": "42"})
    assert not variant_matches(variant, {"colour": "marron", "size": "43"})
    assert not variant_matches(variant, {"material": "leather"})  # it has no material
    assert variant_matches(variant, {"material": "leather"}, only_its_options=True)
    assert variant_matches(variant, {"size": "", "colour": None})  # empty: not asked for


def test_matching_variants_answers_a_stock_question() -> None:
    brown = matching_variants(BOOT, {"colour": "MARRON"})
    assert [(v.id, ok) for v, ok in brown] == [("P1-1", True), ("P1-2", False)]
    # An option no variant has does not rule everything out ("black boots in leather").
    black = matching_variants(BOOT, {"colour": "black", "material": "leather"})
    assert [(v.id, ok) for v, ok in black] == [("P1-3", True), ("P1-4", False)]
    # A variant without that option at all is not ruled out by it (P1-4 has no size).
    assert [v.id for v, _ in matching_variants(BOOT, {"size": "44"})] == ["P1-4"]


def test_find_variant_is_the_first_with_every_option() -> None:
    found = find_variant(BOOT, {"colour": "marrón", "size": "43"})
    assert found is not None and found.id == "P1-2"
    size_44 = find_variant(BOOT, {"colour": "black", "size": "44"})
    assert size_44 is None
    only_colour = find_variant(BOOT, {"colour": "black", "size": "43"})
    assert only_colour is not None and only_colour.id == "P1-3"


def test_in_stock_counts_first_then_the_available_flag() -> None:
    assert [in_stock(v) for v in BOOT.variants] == [True, False, True, False]
    assert in_stock(Variant(id="x", stock=1, available=False))
    assert not in_stock(Variant(id="y"))  # nothing known: not sold


def test_order_total_is_price_times_quantity_in_cents() -> None:
    order = Order(
        id="SG-1",
        customer_id="C1",
        status="pending",
        items=[
            OrderItem(product_id="P1", price=10.10, quantity=3),  # 30.299999... in floats
            OrderItem(product_id="P3", price=None, quantity=2),  # a gift: no price
        ],
    )
    assert order_total(order) == 30.3
    assert order_total(Order(id="SG-2", customer_id="C1", status="pending")) == 0.0


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("SG-10234", "SG10234"),
        ("sg10234", "SG10234"),
        ("#sg 10234", "SG10234"),
        ("# W 1234567", "W1234567"),
        ("ORD-2024-000123", "ORD2024000123"),
        ("#1042", "1042"),
    ],
)
def test_every_spelling_of_a_reference_has_one_key(raw: str, key: str) -> None:
    assert reference_key(raw) == key


def test_customer_lookup_keys() -> None:
    assert email_key("Ana@Example.COM") == "ana@example.com"
    assert email_key("") is None and email_key(None) is None
    moved = Customer(id="C1", name="Ana", address=Address(line1="x", city="y", zip="08001"))
    assert zip_of(moved) == "08001"
    assert zip_of(moved.model_copy(update={"zip": "28013"})) == "28013"
