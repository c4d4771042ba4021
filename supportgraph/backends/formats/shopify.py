"""Shopify's CSV exports (Orders > Export, Products > Export) read into a `Store`.

    supportgraph store load --format shopify --orders orders_export.csv --products products_export.csv
    supportgraph store load --format shopify EXPORT_FOLDER   # orders_export*.csv, products_export*.csv

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

import hashlib
import html
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from supportgraph.backends.formats.base import Problems, SourceError, StoreFormat, StoreSource
from supportgraph.backends.formats.csv_table import Row, Table, read_table
from supportgraph.backends.loader import StoreFileError, describe_errors
from supportgraph.domain.schema import Store

# Canonical column -> the header spellings Shopify has used (the 2024 product export renamed
# "Handle" to "URL handle", "Variant Price" to "Price"...). Matched ignoring case and spacing.
ORDER_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("Name",),
    "email": ("Email",),
    "financial_status": ("Financial Status",),
    "paid_at": ("Paid at",),
    "fulfillment_status": ("Fulfillment Status",),
    "fulfilled_at": ("Fulfilled at",),
    "currency": ("Currency",),
    "total": ("Total",),
    "shipping_method": ("Shipping Method",),
    "created_at": ("Created at",),
    "quantity": ("Lineitem quantity",),
    "item_name": ("Lineitem name",),
    "item_price": ("Lineitem price",),
    "item_sku": ("Lineitem sku",),
    "billing_name": ("Billing Name",),
    "billing_street": ("Billing Street",),
    "billing_address1": ("Billing Address1",),
    "billing_address2": ("Billing Address2",),
    "billing_city": ("Billing City",),
    "billing_zip": ("Billing Zip",),
    "billing_province": ("Billing Province",),
    "billing_country": ("Billing Country",),
    "billing_phone": ("Billing Phone",),
    "shipping_name": ("Shipping Name",),
    "shipping_street": ("Shipping Street",),
    "shipping_address1": ("Shipping Address1",),
    "shipping_address2": ("Shipping Address2",),
    "shipping_city": ("Shipping City",),
    "shipping_zip": ("Shipping Zip",),
    "shipping_province": ("Shipping Province",),
    "shipping_country": ("Shipping Country",),
    "shipping_phone": ("Shipping Phone",),
    "cancelled_at": ("Cancelled at",),
    "payment_method": ("Payment Method",),
    "refunded_amount": ("Refunded Amount",),
    "outstanding_balance": ("Outstanding Balance",),
    "phone": ("Phone",),
}
ORDER_REQUIRED = (
    "name",
    "email",
    "financial_status",
    "fulfillment_status",
    "currency",
    "total",
    "created_at",
    "quantity",
    "item_name",
    "item_price",
)
# Columns of the order itself: filled on an order's first row, blank on its other rows.
ORDER_LEVEL = (
    "email",
    "financial_status",
    "paid_at",
    "fulfillment_status",
    "fulfilled_at",
    "currency",
    "total",
    "shipping_method",
    "created_at",
    "cancelled_at",
    "payment_method",
    "refunded_amount",
    "outstanding_balance",
    "phone",
    *(
        f"{side}_{part}"
        for side in ("billing", "shipping")
        for part in (
            "name",
            "street",
            "address1",
            "address2",
            "city",
            "zip",
            "province",
            "country",
            "phone",
        )
    ),
)
PRODUCT_COLUMNS: dict[str, tuple[str, ...]] = {
    "handle": ("Handle", "URL handle"),
    "title": ("Title",),
    "body": ("Body (HTML)", "Description"),
    "vendor": ("Vendor",),
    "type": ("Type",),
    "status": ("Status",),
    **{
        f"option{n}_{part}": (f"Option{n} {part.title()}",)
        for n in (1, 2, 3)
        for part in ("name", "value")
    },
    "sku": ("Variant SKU", "SKU"),
    "price": ("Variant Price", "Price"),
    "inventory_tracker": ("Variant Inventory Tracker", "Inventory tracker"),
    "inventory_qty": ("Variant Inventory Qty", "Inventory quantity"),
    "inventory_policy": ("Variant Inventory Policy", "Continue selling when out of stock"),
}
PRODUCT_REQUIRED = ("handle", "title")

FINANCIAL_STATUSES = (
    "pending",
    "authorized",
    "partially_paid",
    "paid",
    "partially_refunded",
    "refunded",
    "voided",
    "expired",
)
FULFILLMENT_STATUSES = ("fulfilled", "partial", "unfulfilled", "restocked", "pending")
# Shopify's option names -> the schema's keys where they differ.
OPTION_KEYS = {"color": "colour"}
DEFAULT_TITLE = "Default Title"  # the one "variant" of a product without options


# -- products -------------------------------------------------------------------------------------


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


# -- orders ---------------------------------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


def order_line(row: Row, index: ProductIndex, problems: Problems) -> dict[str, Any] | None:
    """One line item: the catalogue's product and variant by SKU, else by "Title - Variant"
    name; a line of a product no longer in the catalogue keeps its name ("unlisted-<slug>")."""
    name = row.text("item_name")
    quantity = row.whole_number_in("quantity", problems)
    price = row.number_in("item_price", problems)
    if not name:
        problems.add(row.where("item_name"), "empty")
    if quantity is None and not row.text("quantity"):
        problems.add(row.where("quantity"), "empty")
    elif quantity is not None and quantity < 1:
        problems.add(row.where("quantity"), f"{quantity} is not a quantity (1 or more)")
    if not name or quantity is None or quantity < 1:
        return None
    sku = row.text("item_sku")
    product_id, variant_id = index.by_sku.get(sku, (None, None)) if sku else (None, None)
    title, _, variant_title = name.partition(" - ")
    if product_id is None:
        product = index.by_title.get(name) or index.by_title.get(title)
        if product is not None:
            product_id = product["id"]
            wanted = [v.strip() for v in variant_title.split("/")] if variant_title else []
            variant_id = next(
                (v["id"] for v in product["variants"] if list(v["options"].values()) == wanted),
                product["variants"][0]["id"] if len(product["variants"]) == 1 else None,
            )
    item: dict[str, Any] = {
        "product_id": product_id or f"unlisted-{slug(title)}",
        "variant_id": variant_id,
        "quantity": quantity,
        "price": price,
        "name": title if product_id else name,
    }
    if sku:
        item["sku"] = sku
    if variant_title:
        item["variant_title"] = variant_title
    return item


def order_fields(rows: list[Row]) -> dict[str, str]:
    """The order-level columns: the first non-blank value among the order's rows."""
    fields: dict[str, str] = {}
    for column in ORDER_LEVEL:
        fields[column] = next((r.text(column) for r in rows if r.text(column)), "")
    return fields


def first_row_with(rows: list[Row], column: str) -> Row:
    return next((r for r in rows if r.text(column)), rows[0])


def address(fields: dict[str, str], side: str) -> dict[str, Any] | None:
    line1 = fields[f"{side}_address1"] or fields[f"{side}_street"]
    city = fields[f"{side}_city"]
    if not (line1 and city):
        return None
    found: dict[str, Any] = {"line1": line1}
    if fields[f"{side}_address2"]:
        found["line2"] = fields[f"{side}_address2"]
    found["city"] = city
    # Shopify writes "'02116" so that a spreadsheet keeps the leading zero.
    zip_code = fields[f"{side}_zip"].lstrip("'")
    if zip_code:
        found["zip"] = zip_code
    if fields[f"{side}_country"]:
        found["country"] = fields[f"{side}_country"]
    if fields[f"{side}_province"]:
        found["province"] = fields[f"{side}_province"]
    return found


def status_of(fields: dict[str, str], fulfilled_as: Literal["delivered", "shipped"]) -> str:
    financial, fulfilment = fields["financial_status"].lower(), fields["fulfillment_status"].lower()
    sent = fulfilment in ("fulfilled", "partial")
    if fields["cancelled_at"] or financial == "voided" or fulfilment == "restocked":
        return "cancelled"
    if financial == "refunded":
        return "returned" if sent else "cancelled"
    if fulfilment == "fulfilled":
        return fulfilled_as
    if fulfilment == "partial":
        return "shipped"
    return "pending"


def payment_kind(method: str) -> str:
    text = method.lower()
    for words, kind in (
        (("paypal",), "paypal"),
        (("gift card", "gift_card"), "gift_card"),
        (("shop pay",), "shop_pay"),
        (("shopify payments", "stripe", "card", "visa", "mastercard"), "card"),
        (("manual", "bank", "cash", "invoice", "cod"), "manual"),
    ):
        if any(w in text for w in words):
            return kind
    return slug(method)


def payments_of(
    rows: list[Row], fields: dict[str, str], method_id: str | None, problems: Problems
) -> list[dict[str, Any]]:
    total_row = first_row_with(rows, "total")
    total = total_row.number_in("total", problems)
    refunded = first_row_with(rows, "refunded_amount").number_in("refunded_amount", problems)
    outstanding = first_row_with(rows, "outstanding_balance").number_in(
        "outstanding_balance", problems
    )
    if total is None:
        if not total_row.text("total"):
            problems.add(total_row.where("total"), "empty on the order's first row")
        return []
    status = fields["financial_status"].lower()
    at = fields["paid_at"] or fields["created_at"] or None

    def entry(amount: float, state: str, when: str | None) -> dict[str, Any]:
        found: dict[str, Any] = {"amount": round(amount, 2), "status": state}
        if method_id:
            found["method_id"] = method_id
        if when:
            found["at"] = when
        return found

    if status in ("paid", "authorized", "pending"):
        return [entry(total, status, at)]
    if status == "partially_paid":
        if outstanding is None:
            return [entry(total, "pending", at)]
        return [entry(total - outstanding, "paid", at)]
    if status in ("refunded", "partially_refunded"):
        back = refunded if refunded is not None else (total if status == "refunded" else None)
        paid = [entry(total, "paid", at)]
        return paid + ([entry(back, "refunded", fields["cancelled_at"] or None)] if back else [])
    if status == "expired":
        return [entry(total, "failed", at)]
    return []  # voided, or no financial status (a draft, a free order)


@dataclass
class Customers:
    """Customers derived from the orders, one per email (else per billing name and zip)."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    latest: dict[str, str] = field(default_factory=dict)  # customer id -> latest order date

    def for_order(self, order_name: str, fields: dict[str, str]) -> dict[str, Any]:
        email = fields["email"].lower()
        name = fields["billing_name"] or fields["shipping_name"]
        zip_code = (fields["billing_zip"] or fields["shipping_zip"]).lstrip("'")
        key = email or (f"{name}|{zip_code}".lower() if name else f"guest|{order_name}")
        cid = "cust-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
        customer = self.records.setdefault(
            cid, {"id": cid, "name": name or email or "Guest", "payment_methods": []}
        )
        created = fields["created_at"]
        if created >= self.latest.get(cid, ""):  # the latest order's details win
            self.latest[cid] = created
            if name:
                customer["name"] = name
            if email:
                customer["email"] = email
            phone = fields["phone"] or fields["billing_phone"] or fields["shipping_phone"]
            if phone:
                customer["phone"] = phone
            home = address(fields, "billing") or address(fields, "shipping")
            if home:
                customer["address"] = home
        return customer

    def method(self, customer: dict[str, Any], label: str) -> str | None:
        if not label:
            return None
        kind = payment_kind(label)
        mid = f"{customer['id']}-{kind}"
        if all(m["id"] != mid for m in customer["payment_methods"]):
            customer["payment_methods"].append({"id": mid, "kind": kind, "label": label})
        return mid


def read_orders(
    tables: list[Table],
    index: ProductIndex,
    fulfilled_as: Literal["delivered", "shipped"],
    problems: Problems,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    grouped: dict[str, list[Row]] = {}
    for row in (r for t in tables for r in t.rows):
        name = row.text("name")
        if not name:
            problems.add(row.where("name"), "empty: every row needs its order's Name")
            continue
        grouped.setdefault(name, []).append(row)
    customers = Customers()
    orders = []
    for name, rows in grouped.items():
        fields = order_fields(rows)
        check_order_fields(rows, fields, problems)
        created = first_row_with(rows, "created_at").datetime_in("created_at", problems)
        fields["created_at"] = created or ""
        for column in ("paid_at", "fulfilled_at", "cancelled_at"):
            fields[column] = first_row_with(rows, column).datetime_in(column, problems) or ""
        customer = customers.for_order(name, fields)
        method_id = customers.method(customer, fields["payment_method"])
        items = [item for item in (order_line(r, index, problems) for r in rows) if item]
        order: dict[str, Any] = {
            "id": name,
            "customer_id": customer["id"],
            "status": status_of(fields, fulfilled_as),
            "items": items,
            "payments": payments_of(rows, fields, method_id, problems),
            "shipping_address": address(fields, "shipping"),
            "fulfilments": [{"shipped_at": fields["fulfilled_at"]}]
            if fields["fulfilled_at"]
            else [],
            "created_at": created,
            "updated_at": max(
                (fields[c] for c in ("created_at", "paid_at", "fulfilled_at", "cancelled_at")),
                default=None,
            )
            or None,
            "currency": fields["currency"].upper() or None,
        }
        if fields["shipping_method"]:
            order["shipping_method"] = fields["shipping_method"]
        orders.append(order)
    return orders, list(customers.records.values())


def check_order_fields(rows: list[Row], fields: dict[str, str], problems: Problems) -> None:
    """The order columns an order cannot do without, and the values Shopify can write."""
    first = rows[0]
    for column in ("created_at", "currency"):
        if not fields[column]:
            problems.add(first.where(column), "empty on the order's first row")
    for column, allowed in (
        ("financial_status", FINANCIAL_STATUSES),
        ("fulfillment_status", FULFILLMENT_STATUSES),
    ):
        value = fields[column].lower()
        if value and value not in allowed:
            problems.add(
                first_row_with(rows, column).where(column),
                f"{fields[column]!r} is not one of {', '.join(allowed)}",
            )
    if fields["currency"] and not re.fullmatch(r"[A-Za-z]{3}", fields["currency"]):
        where = first_row_with(rows, "currency").where("currency")
        problems.add(where, f"{fields['currency']!r} is not a currency code such as USD")


# -- the format -----------------------------------------------------------------------------------


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
    inputs="--orders FILE --products FILE, or a FOLDER holding orders_export*.csv and products_export*.csv",
    read=read_shopify,
)
