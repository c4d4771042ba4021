"""Catalogue helpers: the one variant matcher, stock availability and the one order total.

Every place that asks "which variant is size 42 in black?" (the store's check_stock, the
product and exchange flows, the alternatives tool) asks `variant_matches`, so they agree
on case and accents: "Marrón", "marron" and " MARRON " name the same option value.
"""

from __future__ import annotations

from collections.abc import Mapping

from supportgraph.domain.schema import Order, Product, Variant
from supportgraph.domain.text import normalize


def same_option(value: object, wanted: object) -> bool:
    """Two option values name the same thing (case, accents and spacing ignored)."""
    return normalize(str(value)) == normalize(str(wanted))


def variant_matches(
    variant: Variant, wanted: Mapping[str, object], *, only_its_options: bool = False
) -> bool:
    """The variant has every wanted option value (empty values are not asked for).

    only_its_options: an option the variant does not have at all is not held against it
    (a stock question about "black, size 42" for a bag with colours only); otherwise the
    variant must have it (a change to "size 42" needs a variant that has that size)."""
    for key, value in wanted.items():
        if not value:
            continue
        if key not in variant.options:
            if only_its_options:
                continue
            return False
        if not same_option(variant.options[key], value):
            return False
    return True


def in_stock(variant: Variant) -> bool:
    """Can be bought now: a counted stock above zero, else the `available` flag."""
    if variant.stock is not None:
        return variant.stock > 0
    return bool(variant.available)


def matching_variants(
    product: Product, options: Mapping[str, object]
) -> list[tuple[Variant, bool]]:
    """Variants with the given options (an option a variant lacks is not held against it),
    each with whether it can be bought now: what a stock check answers."""
    return [
        (variant, in_stock(variant))
        for variant in product.variants
        if variant_matches(variant, options, only_its_options=True)
    ]


def find_variant(product: Product, wanted: Mapping[str, object]) -> Variant | None:
    """The first variant that has every wanted option value, or None."""
    return next((v for v in product.variants if variant_matches(v, wanted)), None)


def order_total(order: Order) -> float:
    """What the order's items cost: price times quantity, rounded to cents."""
    return round(sum((item.price or 0.0) * item.quantity for item in order.items), 2)
