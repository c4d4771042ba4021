"""Shopify's CSV exports (Orders > Export, Products > Export) read into a `Store`.

    supportgraph store load --format shopify --orders orders.csv --products products.csv
    supportgraph store load --format shopify FOLDER   # orders_export*.csv, products_export*.csv

Products: rows grouped by Handle (the product id); Option1..3 Name/Value are the variant's
options, keys lower-cased ("Color" is stored as "colour", the schema's spelling); a variant's id
is its SKU, else "<handle>-<n>". Stock: "Variant Inventory Qty" when Shopify tracks inventory,
otherwise (or when it keeps selling at zero) no count, available.

Orders: rows grouped by Name ("#1001", the order id); a continuation row (the order's 2nd, 3rd
line item) leaves the order columns blank. Customers come from the orders: one per email (else
per billing name and zip), with the latest order's name, phone and billing address. Status:

    Cancelled at set, Financial Status voided, or Fulfillment Status restocked   cancelled
    refunded, and fulfilled or partial                                          returned
    refunded, unfulfilled                                                       cancelled
    fulfilled                                                                   delivered (*)
    partial                                                                     shipped
    anything else                                                               pending

(*) The export says an order was handed to the carrier, not that it arrived, and has no
delivery date: returns are then counted by Settings.returns_without_delivery_date. Pass
fulfilled_as="shipped" to `read_shopify` to record them as shipped instead.

Payments: Total with Financial Status (paid, authorized, pending; partially_paid as Total minus
Outstanding Balance; refunded/partially_refunded add a refund of Refunded Amount; voided and a
blank status record none; expired is failed), on a payment method named by Payment Method. The
export has no carrier or tracking number: a fulfilled order gets a fulfilment with Fulfilled at.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from supportgraph.backends.formats.base import Problems, SourceError, StoreFormat, StoreSource
from supportgraph.backends.formats.csv_table import read_table
from supportgraph.backends.formats.shopify.columns import (
    ORDER_COLUMNS,
    ORDER_REQUIRED,
    PRODUCT_COLUMNS,
    PRODUCT_REQUIRED,
)
from supportgraph.backends.formats.shopify.orders import read_orders
from supportgraph.backends.formats.shopify.products import index_products, read_products
from supportgraph.backends.loader import StoreFileError, describe_errors
from supportgraph.domain.schema import Store


def export_files(source: StoreSource, kind: str) -> list[Path]:
    """The `kind` ("orders", "products") files: named, or found in the folder. Shopify splits a
    large export into orders_export_1.csv, orders_export_2.csv...: every part is read."""
    if kind in source.files:
        return [source.files[kind]]
    if source.path is not None and source.path.is_dir():
        found = sorted(source.path.glob(f"{kind}_export*.csv"))
        if found:
            return found
        raise SourceError(f"{source.path} holds no {kind}_export*.csv")
    raise SourceError(
        f"the shopify format needs --{kind} FILE (or a folder holding {kind}_export.csv)"
    )


def read_shopify(
    source: StoreSource, fulfilled_as: Literal["delivered", "shipped"] = "delivered"
) -> Store:
    if source.path is not None and not source.path.is_dir():
        raise SourceError(f"{source.path} is not a folder: pass --orders and --products")
    order_files, product_files = export_files(source, "orders"), export_files(source, "products")
    problems = Problems()
    product_tables = [
        read_table(f, PRODUCT_COLUMNS, PRODUCT_REQUIRED, problems) for f in product_files
    ]
    order_tables = [read_table(f, ORDER_COLUMNS, ORDER_REQUIRED, problems) for f in order_files]
    label = source.path or order_files[0]
    problems.raise_if_any(label)  # a missing column: the rows cannot be read as meant
    products = read_products(product_tables, problems)
    orders, customers = read_orders(order_tables, index_products(products), fulfilled_as, problems)
    problems.raise_if_any(label)
    currencies = Counter(o["currency"] for o in orders if o["currency"])
    data: dict[str, Any] = {"customers": customers, "products": products, "orders": orders}
    if currencies:
        data["currency"] = currencies.most_common(1)[0][0]
    try:
        return Store.model_validate(data)
    except ValidationError as exc:  # a record the CSV checks above let through
        raise StoreFileError(label, describe_errors(data, exc.errors())) from exc


FORMAT = StoreFormat(
    name="shopify",
    summary="Shopify's CSV exports: Orders > Export and Products > Export",
    inputs="--orders FILE --products FILE, or a FOLDER of orders_export*.csv, products_export*.csv",
    read=read_shopify,
)
