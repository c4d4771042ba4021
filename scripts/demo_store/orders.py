"""Orders: the record shapes, and the fixed orders of ``orders.yaml`` (SG-10001..).

Conventions: datetimes are ISO 8601 in UTC with offset, all strictly before the reference date;
``eta`` is an ISO date. Payment amounts are the item subtotal (the schema has no shipping field).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from demo_store.catalogue import find_variant, line, subtotal
from demo_store.clock import REFERENCE_DATE, add_business_days, at_day, iso
from demo_store.tables import table

FIRST_NUMBER = 10001
CURRENCY: str = table("shop")["currency"]


def new_order(
    oid: str | None, customer: dict[str, Any], status: str, items: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": oid,
        "customer_id": customer["id"],
        "status": status,
        "items": items,
        "payments": [],
        "shipping_address": dict(customer["address"]),
        "fulfilments": [],
        "created_at": None,
        "updated_at": None,
        "currency": CURRENCY,
    }


def payment(amount: float, status: str, method_id: str, at: datetime) -> dict[str, Any]:
    return {"amount": amount, "status": status, "method_id": method_id, "at": iso(at)}


def moments(spec: dict[str, dict[str, Any]]) -> dict[str, datetime]:
    """The ``at`` table of a fixed order as datetimes."""
    out: dict[str, datetime] = {}
    for name, when in spec.items():
        if "after" in when:
            step = timedelta(seconds=when.get("seconds", 0), minutes=when.get("minutes", 0))
            out[name] = out[when["after"]] + step
        else:
            hour, minute = (int(part) for part in when["time"].split(":"))
            out[name] = at_day(when["days_before"], hour, minute)
    return out


def eta(spec: dict[str, int], shipped: datetime) -> date:
    if "business_days_after_shipping" in spec:
        return add_business_days(shipped.date(), spec["business_days_after_shipping"])
    return REFERENCE_DATE - timedelta(days=spec["days_before"])


def fixed_order(
    spec: dict[str, Any], customers: dict[str, dict[str, Any]], products: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    items = []
    for wanted in spec["items"]:
        options = {k: v for k, v in wanted.items() if k not in ("product", "quantity")}
        product = products[wanted["product"]]
        items.append(line(product, find_variant(product, **options), wanted.get("quantity", 1)))
    order = new_order(spec["id"], customers[spec["customer"]], spec["status"], items)
    at = moments(spec["at"])
    amount = subtotal(items)
    order["payments"] = [
        payment(amount, p["status"], p["method"], at[p["at"]]) for p in spec["payments"]
    ]
    if "fulfilment" in spec:
        fulfilment = {
            "tracking_number": spec["fulfilment"]["tracking_number"],
            "carrier": spec["fulfilment"]["carrier"],
            "eta": eta(spec["fulfilment"]["eta"], at["shipped"]).isoformat(),
            "shipped_at": iso(at["shipped"]),
        }
        if "delivered" in at:
            fulfilment["delivered_at"] = iso(at["delivered"])
        order["fulfilments"] = [fulfilment]
    order["created_at"], order["updated_at"] = iso(at["created"]), iso(max(at.values()))
    return order


def fixed_orders(
    customers: list[dict[str, Any]], products: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    by_id = {c["id"]: c for c in customers}
    by_name = {p["name"]: p for p in products}
    return [fixed_order(spec, by_id, by_name) for spec in table("orders")["fixed"]]
