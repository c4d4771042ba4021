"""Products and their variants, from ``products.yaml``; order lines that point at them."""

from __future__ import annotations

import random
from typing import Any

from demo_store.tables import table

FIRST_ID = 2001
CLOTHING_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]


def money(x: float) -> float:
    return round(x + 1e-9, 2)


def size_range(rng: random.Random, ptype: str) -> list[str]:
    """A random run of the type's size scale: shoes 36-46, clothing XS-XXL; else no sizes."""
    sized = table("products")["sized_types"]
    if ptype in sized["shoes"]:
        lo = rng.choice([36, 36, 37, 38, 39])
        hi = rng.choice([42, 43, 45, 46, 46]) if lo < 39 else 46
        return [str(n) for n in range(lo, hi + 1)]
    if ptype in sized["clothing"]:
        lo = rng.choice([0, 0, 1])  # XS or S
        hi = rng.choice([4, 5, 5])  # XL or XXL
        return CLOTHING_SIZES[lo : hi + 1]
    return []


def variant_stock(
    rng: random.Random, spec: dict[str, Any], size: str | None, colour: str
) -> dict[str, Any]:
    if spec.get("stock_counts", True) is False:
        return {"stock": None, "available": rng.random() > 0.2}
    stock = 0 if rng.random() < 0.17 else rng.randint(1, 25)
    for fixed in spec.get("fixed_stock", []):
        if (fixed["size"], fixed["colour"]) == (size, colour):
            stock = fixed["stock"]
    return {"stock": stock}


def build_product(rng: random.Random, pid: str, spec: dict[str, Any]) -> dict[str, Any]:
    palette = table("products")["colours"]
    colours = spec["colours"]
    assert 2 <= len(colours) <= 4 and all(c in palette for c in colours), spec["name"]
    sized: list[str] = spec.get("sizes") or size_range(rng, spec["type"])
    sizes: list[str | None] = [*sized] or [None]  # no sizes: one variant per colour
    surcharge: dict[str, float] = spec.get("surcharge", {})
    variants: list[dict[str, Any]] = []
    for material in spec.get("materials", [None]):
        for colour in colours:
            for size in sizes:
                options: dict[str, str] = {}
                if size is not None:
                    options["size"] = size
                options["colour"] = colour
                if material is not None:
                    options["material"] = material
                extra = sum(surcharge.get(value, 0) for value in options.values())
                variants.append(
                    {
                        "id": f"{pid}-{len(variants) + 1}",
                        "options": options,
                        "price": money(spec["price"] + extra),
                        **variant_stock(rng, spec, size, colour),
                    }
                )
    return {
        "id": pid,
        "name": spec["name"],
        "type": spec["type"],
        "description": spec["description"],
        "price": money(spec["price"]),
        "variants": variants,
    }


def build_products(rng: random.Random) -> list[dict[str, Any]]:
    specs = table("products")["products"]
    return [build_product(rng, f"P{FIRST_ID + i}", spec) for i, spec in enumerate(specs)]


def line(product: dict[str, Any], variant: dict[str, Any], quantity: int) -> dict[str, Any]:
    """An order line: the variant at its price, with the product's name."""
    return {
        "product_id": product["id"],
        "variant_id": variant["id"],
        "quantity": quantity,
        "price": variant["price"],
        "name": product["name"],
    }


def find_variant(product: dict[str, Any], **options: str) -> dict[str, Any]:
    for v in product["variants"]:
        if all(v["options"].get(k) == val for k, val in options.items()):
            return v
    raise KeyError(f"{product['id']} has no variant {options}")


def subtotal(items: list[dict[str, Any]]) -> float:
    return money(sum(i["price"] * i["quantity"] for i in items))
