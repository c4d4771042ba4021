"""Random orders, until every status has its count (``orders.yaml``).

A returned order has a "paid" entry followed by a "refunded" one (full or partial); a cancelled
order has either a "refunded" entry (cancelled by the customer, money released) or only a
"failed" one (cancelled automatically 48 hours after a failed payment).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from demo_store.catalogue import line, money, subtotal
from demo_store.clock import (
    REF_DT,
    REFERENCE_DATE,
    add_business_days,
    at_day,
    iso,
    subtract_business_days,
)
from demo_store.orders import new_order, payment
from demo_store.tables import fill, table


class Tracking:
    """Tracking numbers in each carrier's format, never the same twice."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def new(self, carrier: str) -> str:
        spec = table("orders")
        while True:
            number = fill(self.rng, spec["carriers"][carrier], spec["tracking_letters"])
            if number not in self.used:
                self.used.add(number)
                return number


def transit_days(rng: random.Random, country: str, express: bool) -> int:
    days = table("orders")["transit_days"]
    low, high = days["express"] if express else days.get(country, days["other"])
    return rng.randint(low, high)


def random_time(rng: random.Random, days_ago: int, lo_hour: int = 7, hi_hour: int = 22) -> datetime:
    return at_day(
        days_ago, rng.randint(lo_hour, hi_hour - 1), rng.randint(0, 59), rng.randint(0, 59)
    )


def timeline(rng: random.Random, status: str) -> dict[str, Any]:
    """The moments of a random order with ``status`` (the customer is chosen afterwards)."""
    d: dict[str, Any] = {"status": status}
    if status == "pending":
        d["created"] = REF_DT - timedelta(minutes=rng.randint(20, 44 * 60))
    elif status == "processed":
        d["created"] = REF_DT - timedelta(minutes=rng.randint(90, 60 * 60))
        d["processed"] = d["created"] + timedelta(minutes=rng.randint(8, 55))
    elif status == "shipped":
        shipped_ago = rng.randint(1, 6)
        d["shipped"] = random_time(rng, shipped_ago, 9, 18)
        d["created"] = d["shipped"] - timedelta(hours=rng.randint(2, 30))
    elif status in ("delivered", "returned"):
        if status == "delivered":
            # about half within the 30-day return window, half outside (day 30 itself avoided)
            delivered_ago = rng.randint(1, 29) if rng.random() < 0.5 else rng.randint(31, 70)
        else:
            delivered_ago = rng.randint(10, 70)
        d["delivered"] = random_time(rng, delivered_ago, 9, 19)
        # provisional; shipped/created are set from the carrier's transit time later
        d["created"] = d["delivered"] - timedelta(days=5)
        if status == "returned":
            returned_after = rng.randint(4, min(25, delivered_ago - 1))
            d["returned"] = d["delivered"] + timedelta(
                days=returned_after, hours=rng.randint(-3, 3)
            )
    else:  # cancelled
        d["created"] = random_time(rng, rng.randint(1, 88))
        d["auto"] = rng.random() < 0.3  # cancelled 48 h after a failed payment
        d["cancelled"] = d["created"] + (
            timedelta(hours=48) if d["auto"] else timedelta(minutes=rng.randint(3, 55))
        )
        if d["cancelled"] >= REF_DT:
            d["created"] -= timedelta(days=3)
            d["cancelled"] -= timedelta(days=3)
    return d


def assign_customers(
    rng: random.Random, drafts: list[dict[str, Any]], customers: list[dict[str, Any]]
) -> None:
    """VIPs order often, new customers only recently, at-risk ones not recently; the fixed
    customers never get a random order."""
    weight = table("orders")["customer_weights"]
    fixed = {c["id"] for c in table("customers")["fixed"]}
    pool = [c for c in customers if c["id"] not in fixed]
    order_count: Counter[str] = Counter()
    for d in drafts:
        age = (REFERENCE_DATE - d["created"].date()).days
        eligible = []
        for c in pool:
            seg = c["segment"]
            if seg == "at_risk" and age < 60:
                continue
            if seg == "new" and (age > 30 or order_count[c["id"]] >= 2):
                continue
            eligible.append(c)
        weights = [weight[c["segment"]] for c in eligible]
        customer = rng.choices(eligible, weights=weights, k=1)[0]
        order_count[customer["id"]] += 1
        d["customer"] = customer


def pick_items(rng: random.Random, products: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    items = []
    for product in rng.sample(products, n):
        candidates = [v for v in product["variants"] if (v["stock"] or 0) > 0 or v.get("available")]
        variant = rng.choice(candidates or product["variants"])
        items.append(line(product, variant, 2 if rng.random() < 0.12 else 1))
    return items


def pending_payments(
    rng: random.Random, order: dict[str, Any], amount: float, mid: str, created: datetime
) -> None:
    """One or two failed attempts, the later ones minutes apart and never after the reference."""
    attempts = rng.choice([1, 1, 2])
    at = created + timedelta(seconds=rng.randint(20, 90))
    for _ in range(attempts):
        order["payments"].append(payment(amount, "failed", mid, at))
        at += timedelta(minutes=rng.randint(5, 90))
        if at >= REF_DT:
            break
    order["updated_at"] = order["payments"][-1]["at"]


def ship(
    rng: random.Random,
    d: dict[str, Any],
    order: dict[str, Any],
    tracking: Tracking,
    prepaid: bool,
    mid: str,
) -> None:
    """Payment, fulfilment (and refund of a return) of a shipped, delivered or returned order."""
    status, items, amount = d["status"], order["items"], subtotal(order["items"])
    country = d["customer"]["address"]["country"]
    express = country != "GB" and rng.random() < 0.15
    carrier = table("orders")["express_carrier"] if express else table("places")[country]["carrier"]
    transit = transit_days(rng, country, express)
    created = d["created"]
    if status == "shipped":
        shipped = d["shipped"]
        eta = add_business_days(shipped.date(), transit)
    else:  # work back from the delivery: usually on the eta, sometimes a day early or late
        eta = d["delivered"].date() + timedelta(days=rng.choice([0, 0, 0, 0, 0, 0, -1, 1]))
        ship_day = subtract_business_days(eta, transit)
        shipped = datetime(
            ship_day.year,
            ship_day.month,
            ship_day.day,
            rng.randint(9, 17),
            rng.randint(0, 59),
            rng.randint(0, 59),
            tzinfo=UTC,
        )
        created = shipped - timedelta(hours=rng.randint(2, 30), minutes=rng.randint(0, 59))
        order["created_at"] = iso(created)
    order["payments"].append(payment(amount, "paid", mid, created if prepaid else shipped))
    fulfilment = {"tracking_number": tracking.new(carrier), "carrier": carrier}
    if rng.random() > 0.1:
        fulfilment["eta"] = eta.isoformat()
    fulfilment["shipped_at"] = iso(shipped)
    order["updated_at"] = iso(shipped)
    if status != "shipped":
        fulfilment["delivered_at"] = order["updated_at"] = iso(d["delivered"])
    order["fulfilments"].append(fulfilment)
    if status == "returned":
        if len(items) > 1 and rng.random() < 0.4:  # partial return: one item back
            back = rng.choice(items)
            refund = money(back["price"] * back["quantity"])
        else:
            refund = amount
        order["payments"].append(payment(refund, "refunded", mid, d["returned"]))
        order["updated_at"] = iso(d["returned"])


def random_order(
    rng: random.Random, d: dict[str, Any], products: list[dict[str, Any]], tracking: Tracking
) -> dict[str, Any]:
    status = d["status"]
    items = pick_items(rng, products, rng.choices([1, 2, 3], weights=[55, 30, 15], k=1)[0])
    amount = subtotal(items)
    method = rng.choice(d["customer"]["payment_methods"])
    mid = method["id"]
    prepaid = method["kind"] in ("paypal", "gift_card")  # charged at checkout; others at shipping
    order = new_order(None, d["customer"], status, items)
    order["created_at"] = iso(d["created"])
    at_checkout = payment(amount, "paid" if prepaid else "authorized", mid, d["created"])
    if status == "pending":
        if rng.random() < 0.35:
            pending_payments(rng, order, amount, mid, d["created"])
        else:
            order["payments"].append(at_checkout)
            order["updated_at"] = iso(d["created"])
    elif status == "processed":
        order["payments"].append(at_checkout)
        order["updated_at"] = iso(d["processed"])
    elif status == "cancelled":
        if d["auto"]:
            failed_at = d["created"] + timedelta(seconds=35)
            order["payments"].append(payment(amount, "failed", mid, failed_at))
        else:
            order["payments"].append(payment(amount, "refunded", mid, d["cancelled"]))
        order["updated_at"] = iso(d["cancelled"])
    else:
        ship(rng, d, order, tracking, prepaid, mid)
    return order


def random_orders(
    rng: random.Random,
    customers: list[dict[str, Any]],
    products: list[dict[str, Any]],
    tracking: Tracking,
    statuses: list[str],
) -> list[dict[str, Any]]:
    rng.shuffle(statuses)
    drafts = [timeline(rng, status) for status in statuses]
    drafts.sort(key=lambda d: d["created"])
    assign_customers(rng, drafts, customers)
    orders = [random_order(rng, d, products, tracking) for d in drafts]
    orders.sort(key=lambda o: o["created_at"])  # order numbers follow creation time
    return orders
