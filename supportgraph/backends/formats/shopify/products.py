"""Shopify's products export: rows grouped by Handle into products and their variants."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from supportgraph.backends.formats.base import Problems
from supportgraph.backends.formats.csv_table import Row, Table
from supportgraph.backends.formats.shopify.columns import DEFAULT_TITLE, OPTION_KEYS


def option_key(name: str) -> str:
    key = " ".join(name.strip().lower().split())
    return OPTION_KEYS.get(key, key)


def plain_text(body: str) -> str:
    """A product description without its HTML."""
    text = re.sub(r"<br\s*/?>|</p>|</li>", " ", body, flags=re.IGNORECASE)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


@dataclass
class ProductIndex:
    """Where an order line's SKU or name points in the catalogue."""

    by_sku: dict[str, tuple[str, str]] = field(default_factory=dict)  # sku -> product, variant
    by_title: dict[str, dict[str, Any]] = field(default_factory=dict)  # title -> product dict


def read_products(tables: list[Table], problems: Problems) -> list[dict[str, Any]]:
    products: dict[str, dict[str, Any]] = {}
    option_names: dict[str, list[str]] = {}
    for row in (r for t in tables for r in t.rows):
        handle = row.text("handle")
        if not handle:
            problems.add(row.where("handle"), "empty: every row needs its product's handle")
            continue
        if handle not in products:
            title = row.text("title")
            if not title:
                problems.add(row.where("title"), f"empty on the first row of product {handle!r}")
            products[handle] = {"id": handle, "name": title or handle, "variants": []}
            for key, column in (("type", "type"), ("vendor", "vendor"), ("status", "status")):
                if row.text(column):
                    products[handle][key] = row.text(column)
            if row.text("body"):
                products[handle]["description"] = plain_text(row.text("body"))
            option_names[handle] = [row.text(f"option{n}_name") for n in (1, 2, 3)]
        values = [row.text(f"option{n}_value") for n in (1, 2, 3)]
        if not (any(values) or row.text("sku") or row.text("price")):
            continue  # an image row: Handle and Image Src only
        product = products[handle]
        variant = read_variant(row, handle, option_names[handle], values, product, problems)
        if variant is not None:
            product["variants"].append(variant)
    for product in products.values():
        prices = [v["price"] for v in product["variants"] if v.get("price") is not None]
        if prices:
            product["price"] = prices[0]
    return list(products.values())


def read_variant(
    row: Row,
    handle: str,
    names: list[str],
    values: list[str],
    product: dict[str, Any],
    problems: Problems,
) -> dict[str, Any] | None:
    options: dict[str, str] = {}
    for n, (name, value) in enumerate(zip(names, values, strict=True), start=1):
        if value and not name:
            problems.add(row.where(f"option{n}_name"), f"no option name for value {value!r}")
        elif value and not (name.lower() == "title" and value == DEFAULT_TITLE):
            options[option_key(name)] = value
    price = row.number_in("price", problems)
    quantity = row.whole_number_in("inventory_qty", problems)
    sku = row.text("sku")
    variant: dict[str, Any] = {
        "id": sku or f"{handle}-{len(product['variants']) + 1}",
        "options": options,
    }
    if sku:
        variant["sku"] = sku
    if price is not None:
        variant["price"] = price
    tracked = bool(row.text("inventory_tracker")) or (
        "inventory_tracker" not in row.values and quantity is not None
    )
    keeps_selling = row.text("inventory_policy").lower() in ("continue", "true", "yes")
    if tracked and not keeps_selling and quantity is not None:
        variant["stock"] = max(quantity, 0)
    else:
        variant["available"] = True
    return variant


def index_products(products: list[dict[str, Any]]) -> ProductIndex:
    index = ProductIndex()
    for product in products:
        index.by_title.setdefault(product["name"], product)
        for variant in product["variants"]:
            if variant.get("sku"):
                index.by_sku.setdefault(variant["sku"], (product["id"], variant["id"]))
    return index
