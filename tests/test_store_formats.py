"""A shop's own data: the store formats (native JSON, Shopify's CSV exports), what `store load`
does with a bad file, and the second test store's generator (scripts/second_store).

Everything runs in-process (the CLI through Typer's runner), so this module is fast tier.
"""

from __future__ import annotations

import csv
import importlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from supportgraph.backends.formats import StoreSource, available, get_format
from supportgraph.backends.loader import StoreFileError
from supportgraph.backends.sqlite import SqliteStore
from supportgraph.cli import app
from supportgraph.domain.schema import Order, Store

REPO = Path(__file__).resolve().parents[1]
EXPORTS = REPO / "tests" / "data" / "exports" / "shopify"
ORDERS_CSV = EXPORTS / "orders_export.csv"
PRODUCTS_CSV = EXPORTS / "products_export.csv"
HOMEGOODS = REPO / "tests" / "data" / "stores" / "homegoods.json"


def read_shopify(orders: Path = ORDERS_CSV, products: Path = PRODUCTS_CSV) -> Store:
    source = StoreSource(files={"orders": orders, "products": products})
    return get_format("shopify").read(source)


@pytest.fixture(scope="module")
def shop() -> Store:
    return read_shopify()


def order(store: Store, order_id: str) -> Order:
    return next(o for o in store.orders if o.id == order_id)


def invoke(data_dir: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [*args, "--data-dir", str(data_dir)])


def rewrite(source: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """A copy of a CSV export with `change(header, rows)` applied."""
    rows = list(csv.reader(source.open(encoding="utf-8", newline="")))
    header, body = rows[0], rows[1:]
    header, body = change(header, body)
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *body])
    return target


# -- the registry ---------------------------------------------------------------------------------


def test_the_registry_offers_the_native_and_shopify_formats() -> None:
    assert {"native", "shopify"} <= set(available())
    with pytest.raises(KeyError, match="unknown store format 'woo'"):
        get_format("woo")


# -- Shopify: orders ------------------------------------------------------------------------------


def test_an_order_with_two_line_item_rows_is_one_order_with_two_items(shop: Store) -> None:
    first = order(shop, "#1003")
    assert first.status == "delivered"  # fulfilled: handed to the carrier, no delivery date
    assert first.currency == "USD" and shop.currency == "USD"
    assert [(i.name, i.product_id, i.variant_id, i.quantity, i.price) for i in first.items] == [
        ("Walnut Desk Organizer", "walnut-desk-organizer", "ML-ORG-WAL", 1, 48.0),
        ("Standing Desk Mat", "standing-desk-mat", "ML-MAT-36", 1, 79.0),
    ]
    assert [(p.amount, p.status) for p in first.payments] == [(134.94, "paid")]
    assert first.created_at == "2026-10-03T12:30:09-04:00"
    assert [f.shipped_at for f in first.fulfilments] == ["2026-10-06T15:21:00-04:00"]
    assert first.fulfilments[0].delivered_at is None
    assert first.shipping_address is not None and first.shipping_address.zip == "02116"


def test_cancelled_refunded_and_unfulfilled_orders_get_their_status(shop: Store) -> None:
    voided = order(shop, "#1005")  # Cancelled at set, authorization voided
    assert voided.status == "cancelled" and voided.payments == []
    returned = order(shop, "#1004")  # refunded after it was fulfilled
    assert returned.status == "returned"
    assert [(p.amount, p.status) for p in returned.payments] == [
        (104.74, "paid"),
        (104.74, "refunded"),
    ]
    refunded_before_shipping = order(shop, "#1014")
    assert refunded_before_shipping.status == "cancelled"
    assert [p.status for p in refunded_before_shipping.payments] == ["paid", "refunded"]
    unfulfilled = order(shop, "#1007")
    assert unfulfilled.status == "pending" and unfulfilled.fulfilments == []
    assert order(shop, "#1010").status == "shipped"  # partially fulfilled
    partial_refund = order(shop, "#1006")
    assert partial_refund.status == "delivered"
    assert [(p.amount, p.status) for p in partial_refund.payments][-1] == (19.49, "refunded")
    assert [p.status for p in order(shop, "#1015").payments] == ["failed"]  # expired
    assert [(p.amount, p.status) for p in order(shop, "#1022").payments] == [(188.89, "paid")]


def test_each_order_keeps_its_own_currency_and_the_store_takes_the_most_common(
    shop: Store,
) -> None:
    assert order(shop, "#1018").currency == "CAD"
    assert shop.currency == "USD"


def test_customers_come_from_the_orders_one_per_email(shop: Store) -> None:
    by_email = {c.email: c for c in shop.customers if c.email}
    chloe = by_email["chloe.nguyen@example.org"]
    assert chloe.name == "Chloe Nguyen" and chloe.address and chloe.address.zip == "02116"
    chloe_orders = sorted(o.id for o in shop.orders if o.customer_id == chloe.id)
    assert chloe_orders == ["#1003", "#1010", "#1019"]
    assert "isla.murphy@example.com" in by_email  # exported as ISLA.MURPHY@example.com
    walk_in = next(c for c in shop.customers if c.name == "Marcus Hill")  # POS, no email
    assert walk_in.email is None and order(shop, "#1011").customer_id == walk_in.id
    assert order(shop, "#1011").shipping_address is None
    kinds = {m.kind for m in by_email["dmitri.novak@example.com"].payment_methods}
    assert kinds == {"card", "gift_card"}
    assert all(c.segment is None for c in shop.customers)


def test_a_line_of_a_product_no_longer_listed_keeps_its_name(shop: Store) -> None:
    items = order(shop, "#1013").items
    assert [(i.product_id, i.variant_id, i.name) for i in items[1:]] == [
        ("unlisted-vintage-brass-mirror", None, "Vintage Brass Mirror"),
        ("unlisted-gift-wrapping", None, "Gift wrapping"),
    ]
    no_sku = order(shop, "#1019").items[1]  # matched by its name instead
    assert (no_sku.product_id, no_sku.variant_id) == ("ceramic-pour-over-set", "ML-POUR-SET")


# -- Shopify: products ----------------------------------------------------------------------------


def test_products_are_grouped_by_handle_with_their_own_option_keys(shop: Store) -> None:
    products = {p.id: p for p in shop.products}
    assert len(products) == 10
    lamp = products["brass-task-lamp"]
    assert lamp.name == "Brass Task Lamp" and len(lamp.variants) == 4  # image rows skipped
    assert lamp.variants[1].options == {"finish": "Brass", "bulb": "LED 12W"}
    assert (lamp.variants[1].price, lamp.variants[1].stock) == (99.0, 0)
    assert lamp.description == "Adjustable task lamp. Dimmable USB-C port in the base"
    throw = products["linen-throw-blanket"]
    assert [v.options for v in throw.variants] == [
        {"colour": c} for c in ("Sand", "Sage", "Charcoal")
    ]
    pour_over = products["ceramic-pour-over-set"].variants[0]  # Default Title, not tracked
    assert (pour_over.options, pour_over.stock, pour_over.available) == ({}, None, True)
    napkins = products["cotton-napkins-set-of-4"].variants[0]  # sells on at zero stock
    assert (napkins.stock, napkins.available) == (None, True)


def test_a_folder_holding_both_exports_reads_the_same_store(tmp_path: Path, shop: Store) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(ORDERS_CSV, folder / "orders_export_1.csv")
    shutil.copy(PRODUCTS_CSV, folder / "products_export.csv")
    from_folder = get_format("shopify").read(StoreSource(path=folder))
    assert from_folder == shop


# -- bad exports ----------------------------------------------------------------------------------


def test_a_missing_column_names_the_file_and_the_column(tmp_path: Path) -> None:
    def drop_total(header: list[str], rows: list[list[str]]):  # type: ignore[no-untyped-def]
        i = header.index("Total")
        return header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows]

    bad = rewrite(ORDERS_CSV, tmp_path / "orders_export.csv", drop_total)
    with pytest.raises(StoreFileError) as caught:
        read_shopify(orders=bad)
    assert caught.value.problems == ['  orders_export.csv, row 1: missing column "Total"']


def test_a_bad_number_names_the_file_row_and_column(tmp_path: Path) -> None:
    def break_price(header: list[str], rows: list[list[str]]):  # type: ignore[no-untyped-def]
        rows[2][header.index("Lineitem price")] = "12,5x"  # row 4 of the spreadsheet
        return header, rows

    def break_stock(header: list[str], rows: list[list[str]]):  # type: ignore[no-untyped-def]
        rows[6][header.index("Variant Inventory Qty")] = "a few"  # row 8
        return header, rows

    bad_orders = rewrite(ORDERS_CSV, tmp_path / "orders_export.csv", break_price)
    bad_products = rewrite(PRODUCTS_CSV, tmp_path / "products_export.csv", break_stock)
    with pytest.raises(StoreFileError) as caught:
        read_shopify(orders=bad_orders, products=bad_products)
    assert caught.value.problems == [
        "  products_export.csv, row 8, column \"Variant Inventory Qty\": 'a few' is not a "
        "whole number",
        "  orders_export.csv, row 4, column \"Lineitem price\": '12,5x' is not a number",
    ]


def test_the_cli_refuses_a_bad_export_and_the_store_keeps_its_content(tmp_path: Path) -> None:
    loaded = invoke(tmp_path, "store", "load", "--format", "shopify", str(EXPORTS))
    assert loaded.exit_code == 0, loaded.output
    assert "imported 10 customers, 10 products, 25 orders (USD)" in loaded.output

    def unknown_status(header: list[str], rows: list[list[str]]):  # type: ignore[no-untyped-def]
        rows[0][header.index("Financial Status")] = "payed"
        return header, rows

    bad = rewrite(ORDERS_CSV, tmp_path / "orders_export.csv", unknown_status)
    refused = invoke(
        tmp_path,
        "store",
        "load",
        "--format",
        "shopify",
        "--orders",
        str(bad),
        "--products",
        str(PRODUCTS_CSV),
    )
    assert refused.exit_code == 2
    assert "nothing imported" in refused.output
    assert "orders_export.csv, row 2, column \"Financial Status\": 'payed'" in refused.output
    kept = SqliteStore(tmp_path / "store.db")
    try:
        assert len(kept.export().orders) == 25
    finally:
        kept.close()


def test_the_cli_says_what_the_shopify_format_needs(tmp_path: Path) -> None:
    result = invoke(tmp_path, "store", "load", "--format", "shopify", "--orders", str(ORDERS_CSV))
    assert result.exit_code == 2 and "--products" in result.output


# -- the native format and the second store -------------------------------------------------------


def test_the_second_store_loads_with_the_default_format(tmp_path: Path) -> None:
    result = invoke(tmp_path, "store", "load", str(HOMEGOODS))
    assert result.exit_code == 0, result.output
    assert "3000 orders (USD)" in result.output


def test_native_json_that_does_not_parse_names_line_and_column(tmp_path: Path) -> None:
    broken = tmp_path / "store.json"
    broken.write_text('{"customers": [\n  {"id": "1",]\n}', encoding="utf-8")
    with pytest.raises(StoreFileError) as caught:
        get_format("native").read(StoreSource(path=broken))
    assert caught.value.problems[0].startswith("  line 2, column")


@pytest.fixture(scope="module")
def generator() -> Iterator[ModuleType]:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        yield importlib.import_module("second_store.generate")
    finally:
        sys.path.remove(str(REPO / "scripts"))


def test_the_second_store_is_its_generators_output(
    generator: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert generator.main(["--check"]) == 0
    stale = tmp_path / "homegoods.json"
    stale.write_bytes(HOMEGOODS.read_bytes().replace(b'"#3990"', b'"#3909"', 1))
    assert generator.main(["--check", "--output", str(stale)]) == 1
    assert "differs from the generator" in capsys.readouterr().out
