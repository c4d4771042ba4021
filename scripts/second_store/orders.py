"""Orders #1001..#4000, numbered in creation order, with the named ones of fixed.py in their slots.

A random order's status follows from its timeline: it ships some business days after it was
placed and arrives some days after that; whichever of those moments lie before the reference
date decide between pending/processed, shipped and delivered. The store records when an order
shipped, never when it arrived (a platform export does not say), and no promised dates.

Payments hold the item subtotal (prices include tax, shipping is free). A refund entry holds the
amount refunded. Some orders have no payment at all (an unpaid invoice, net-30 terms), some a
failed one; a cancelled order was refunded, voided (no payment), or cancelled after its payment
failed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from second_store import fixed
from second_store.catalogue import find_variant, is_freight, line
from second_store.clock import REFERENCE, business_days_after, iso, slot_times
from second_store.people import People

FIRST_NUMBER = 1001
COUNT = 3000
RETURNING_SHARE = 0.42  # orders placed by a customer who ordered before
PARCEL_CARRIERS = [("UPS", 0.45), ("USPS", 0.35), ("FedEx", 0.20)]
CANCEL_REASONS = ["customer", "customer", "inventory", "fraud", "other"]
TRACKING_LETTERS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def money(x: float) -> float:
    return round(x + 1e-9, 2)


def subtotal(items: list[dict[str, Any]]) -> float:
    return money(sum(i["price"] * i["quantity"] for i in items))


class Tracking:
    """Tracking numbers in each carrier's format, never the same twice."""

    def __init__(self, rng: random.Random, used: set[str]) -> None:
        self.rng = rng
        self.used = set(used)

    def new(self, carrier: str) -> str:
        rng = self.rng
        while True:
            if carrier == "UPS":
                number = "1Z" + "".join(rng.choice(TRACKING_LETTERS) for _ in range(6))
                number += "03" + "".join(str(rng.randint(0, 9)) for _ in range(8))
            elif carrier == "USPS":
                number = "9400111" + "".join(str(rng.randint(0, 9)) for _ in range(15))
            elif carrier == "Canada Post":
                number = "7023410" + "".join(str(rng.randint(0, 9)) for _ in range(9))
            else:  # FedEx, FedEx Freight (a PRO number)
                number = "".join(
                    str(rng.randint(0, 9)) for _ in range(12 if carrier == "FedEx" else 10)
                )
            if number not in self.used:
                self.used.add(number)
                return number


def payment(amount: float, status: str, method: str | None, at: datetime) -> dict[str, Any]:
    entry: dict[str, Any] = {"amount": money(amount), "status": status}
    if method:
        entry["method_id"] = method
    entry["at"] = iso(at)
    return entry


def method_of(customer: dict[str, Any], rng: random.Random | None = None) -> str | None:
    methods = customer.get("payment_methods") or []
    if not methods:
        return None
    return str((rng.choice(methods) if rng else methods[0])["id"])


def new_order(number: int, customer: dict[str, Any], created: datetime) -> dict[str, Any]:
    return {
        "id": f"#{number}",
        "customer_id": customer["id"],
        "status": "pending",
        "items": [],
        "payments": [],
        "shipping_address": dict(customer["address"]),
        "fulfilments": [],
        "created_at": iso(created),
        "updated_at": iso(created),
    }


def before_reference(moment: datetime, floor: datetime) -> datetime:
    """`moment`, or a moment between `floor` and the reference date when it is not earlier."""
    if moment < REFERENCE:
        return moment
    return floor + (REFERENCE - floor) / 2


# -- the named orders ---------------------------------------------------------------------------


def fixed_order(
    spec: dict[str, Any],
    created: datetime,
    customers: dict[str, dict[str, Any]],
    products: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    assert created.date().isoformat() == spec["day"], (spec["number"], created)
    customer = customers[spec["customer"]]
    order = new_order(spec["number"], customer, created)
    order["status"] = spec["status"]
    for name, options, quantity in spec["items"]:
        product = products[name]
        order["items"].append(line(product, find_variant(product, options), quantity))
    amount = subtotal(order["items"])
    method = method_of(customer)
    at = created + timedelta(seconds=41)
    shipped = None
    if "fulfilment" in spec:
        carrier, number = spec["fulfilment"]
        shipped = business_days_after(created, 1, random.Random(spec["number"]))
        shipped = before_reference(shipped, created)
        order["fulfilments"] = [
            {"tracking_number": number, "carrier": carrier, "shipped_at": iso(shipped)}
        ]
    for status in spec["payments"]:
        if status == "refunded":
            assert shipped is not None
            at = before_reference(shipped + timedelta(days=9, hours=3), shipped)
        order["payments"].append(payment(amount, status, method, at))
    for extra in ("cancel_reason", "shipping_method", "payment_terms"):
        if extra in spec:
            order[extra] = spec[extra]
    if spec["status"] == "cancelled":
        at = created + timedelta(hours=48)  # cancelled automatically after the failed payment
    order["updated_at"] = iso(max(at, shipped or at))
    return order


# -- random orders ------------------------------------------------------------------------------


def pick_customer(
    rng: random.Random, people: People, pool: list[dict[str, Any]], counts: dict[str, int]
) -> dict[str, Any]:
    """A returning customer (the more they ordered, the likelier) or a new one."""
    if pool and rng.random() < RETURNING_SHARE:
        return rng.choices(pool, weights=[counts[c["id"]] for c in pool], k=1)[0]
    customer = people.new()
    pool.append(customer)
    return customer


def pick_items(rng: random.Random, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    weights = [1 / float(p["price"]) ** 0.5 for p in products]
    n = rng.choices([1, 2, 3], weights=[60, 28, 12], k=1)[0]
    chosen: list[dict[str, Any]] = []
    while len(chosen) < n:
        product = rng.choices(products, weights=weights, k=1)[0]
        if product not in chosen:
            chosen.append(product)
    items = []
    for product in chosen:
        variant = rng.choice(product["variants"])
        quantity = 1
        if product["price"] < 40 and rng.random() < 0.25:
            quantity = rng.randint(2, 4)
        elif product["type"] == "Office Chairs" and rng.random() < 0.08:
            quantity = rng.randint(2, 6)
        items.append(line(product, variant, quantity))
    return items


def ship(
    rng: random.Random,
    order: dict[str, Any],
    created: datetime,
    freight: bool,
    tracking: Tracking,
    country: str,
) -> tuple[datetime, datetime]:
    """Fulfilments of a sent order; (when it shipped, when it arrived: never recorded)."""
    shipped = business_days_after(created, rng.randint(3, 6) if freight else rng.randint(1, 3), rng)
    arrived = shipped + timedelta(days=rng.randint(5, 12) if freight else rng.randint(2, 6))
    if freight:
        fulfilment: dict[str, Any] = {"carrier": "FedEx Freight"}
        if rng.random() < 0.5:  # a PRO number only when the freight desk entered it
            fulfilment = {"tracking_number": tracking.new("FedEx Freight"), **fulfilment}
    else:
        carrier = (
            "Canada Post"
            if country == "CA"
            else rng.choices([c for c, _ in PARCEL_CARRIERS], [w for _, w in PARCEL_CARRIERS])[0]
        )
        fulfilment = {"tracking_number": tracking.new(carrier), "carrier": carrier}
    fulfilment["shipped_at"] = iso(shipped)
    order["fulfilments"].append(fulfilment)
    return shipped, arrived


def random_order(
    rng: random.Random,
    number: int,
    created: datetime,
    customer: dict[str, Any],
    products: list[dict[str, Any]],
    tracking: Tracking,
) -> dict[str, Any]:
    order = new_order(number, customer, created)
    order["items"] = items = pick_items(rng, products)
    by_id = {p["id"]: p for p in products}
    freight = any(is_freight(by_id[i["product_id"]]) for i in items)
    amount = subtotal(items)
    method = method_of(customer, rng)
    paid_at = created + timedelta(seconds=rng.randint(15, 120))
    events = [created]
    roll = rng.random()

    if roll < 0.035:  # cancelled within two days, before anything shipped
        order["status"] = "cancelled"
        cancelled = before_reference(created + timedelta(hours=rng.uniform(0.2, 48)), created)
        kind = rng.choices(["failed", "refunded", "voided"], weights=[35, 50, 15], k=1)[0]
        if kind == "failed":
            order["payments"].append(payment(amount, "failed", method, paid_at))
            cancelled = before_reference(created + timedelta(hours=48), created)
            order["cancel_reason"] = "declined"
        else:
            if kind == "refunded":
                order["payments"].append(payment(amount, "paid", method, paid_at))
                order["payments"].append(payment(amount, "refunded", method, cancelled))
            order["cancel_reason"] = rng.choice(CANCEL_REASONS)
        order["updated_at"] = iso(cancelled)
        return order

    unpaid = rng.random() < 0.04  # an invoice or net-30 order: no payment recorded
    # The card was declined and nobody has paid since (older ones were cancelled, above).
    lost = REFERENCE - created < timedelta(days=4) and rng.random() < 0.12
    country = str(customer["address"].get("country"))
    pickup = not freight and rng.random() < 0.05
    if pickup:
        order["shipping_method"] = "Local pickup"
    else:
        order["shipping_method"] = (
            "Freight" if freight else rng.choice(["Standard", "Standard", "Express"])
        )
    shipped, arrived = (
        (business_days_after(created, 1, rng),) * 2
        if pickup
        else ship(rng, order, created, freight, tracking, country)
    )
    if unpaid:
        order["payment_terms"] = rng.choice(["Net 30", "Invoice sent"])
    if shipped >= REFERENCE or lost:  # not sent yet: pending until prepared
        order["fulfilments"] = []
        age = REFERENCE - created
        if lost:
            order["payments"].append(payment(amount, "failed", method, paid_at))
        elif not unpaid:
            status = "paid" if rng.random() < 0.35 else "authorized"
            order["payments"].append(payment(amount, status, method, paid_at))
        prepared = not (unpaid or lost) and age > timedelta(hours=rng.uniform(10, 30))
        order["status"] = "processed" if prepared else "pending"
        events.append(paid_at)
    else:
        if not unpaid:
            order["payments"].append(payment(amount, "paid", method, paid_at))
            events.append(paid_at)
        events.append(shipped)
        order["status"] = "delivered" if arrived < REFERENCE else "shipped"
        if pickup:
            order["status"] = "delivered"
        if order["status"] == "delivered" and not unpaid:
            back = arrived + timedelta(days=rng.randint(4, 20), hours=rng.randint(0, 8))
            if back < REFERENCE and rng.random() < 0.06:
                order["status"] = "returned"
                order["payments"].append(payment(amount, "refunded", method, back))
                events.append(back)
            elif back < REFERENCE and len(items) > 1 and rng.random() < 0.05:
                part = rng.choice(items)  # one item sent back: refunded, the order stays delivered
                order["payments"].append(
                    payment(part["price"] * part["quantity"], "refunded", method, back)
                )
                events.append(back)
    order["updated_at"] = iso(max(e for e in events if e < REFERENCE))
    return order


def build_orders(
    rng: random.Random, products: list[dict[str, Any]], people: People, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The orders, and every customer (the named ones first, then in order of first order).
    The timeline has its own generator, so a change to the catalogue or the customers never
    moves an order to another day."""
    named = [dict(c) for c in fixed.CUSTOMERS]
    by_id = {c["id"]: c for c in named}
    by_name = {p["name"]: p for p in products}
    specs = {spec["number"]: spec for spec in fixed.ORDERS}
    used = {s["fulfilment"][1] for s in fixed.ORDERS if "fulfilment" in s}
    tracking = Tracking(rng, used)
    pool: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    orders = []
    for k, created in enumerate(slot_times(random.Random(seed), COUNT)):
        number = FIRST_NUMBER + k
        if number in specs:
            orders.append(fixed_order(specs[number], created, by_id, by_name))
            continue
        customer = pick_customer(rng, people, pool, counts)
        counts[customer["id"]] = counts.get(customer["id"], 0) + 1
        orders.append(random_order(rng, number, created, customer, products, tracking))
    return orders, [*named, *pool]
