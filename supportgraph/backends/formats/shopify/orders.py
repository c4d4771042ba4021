"""Shopify's orders export: rows grouped by Name into orders, customers derived from them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from supportgraph.backends.formats.base import Problems
from supportgraph.backends.formats.csv_table import Row, Table
from supportgraph.backends.formats.shopify.columns import (
    FINANCIAL_STATUSES,
    FULFILLMENT_STATUSES,
    ORDER_LEVEL,
)
from supportgraph.backends.formats.shopify.products import ProductIndex


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
