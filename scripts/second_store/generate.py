"""Write (or check) the second test store: ``tests/data/stores/homegoods.json``.

    python scripts/second_store/generate.py [--output PATH] [--check] [--seed N]

Hearth & Desk, a home & office goods shop in USD, drawn to be unlike the demo store: order ids
"#1001".."#4000" (about 3,000 orders placed 2026-09-01..2026-11-20, numbered in time order),
numeric customer, product and variant ids, options such as finish, material, length, wattage,
capacity and armrest (never size or colour), no delivery dates (a fulfilment has a carrier,
perhaps a tracking number, and when it shipped), no customer segments, orders without payments,
failed payments, cancellations. Deterministic: one ``random.Random(seed)`` drawn in a fixed order
and dates from a fixed calendar; the same seed gives the same bytes.

Named records tests and eval suites rely on (fixed.py; the eval clock is 2026-11-21):

    customer (id, email)                                    orders
    Megan Walsh 6012345678901 megan.walsh@example.com       #3990 pending 2026-11-20 (Orbit Desk
                                                            Lamp + Lumen USB-C Cable, $112.00,
                                                            authorized); #3850 shipped, UPS
                                                            1Z4F87W90374625518
    Derek Okafor 6012345678902 derek.okafor@example.net     #3705 delivered, placed 2026-11-14
                                                            (Steep Electric Kettle, $89.00)
    Priya Raman 6012345678903 priya.raman@example.org       #1042 delivered, placed 2026-09-02
                                                            (past the 30-day return window)
    Jordan Ellis 6012345678904 jordan.ellis@example.com     #2817 cancelled after a failed payment
    Alicia Moreno 6012345678905 alicia.moreno@example.com   several: #1377 delivered 2026-09-14,
                                                            #2455 returned, #3720 delivered
                                                            2026-11-14 ($155.00), #3996 pending
                                                            ($149.00, paid)
    Lucía Fernández 6012345678906 lucia.fernandez@...net    #3980 processed; #3991 pending, no
                                                            payment ($219.00)
    Camille Tremblay 6012345678907 camille.tremblay@...org  #1600 delivered 2026-09-21; #3812
                                                            delivered 2026-11-16 ($199.00); #3900
                                                            shipped (Canada Post); #3998 pending
                                                            ($349.00)
    Jonas Krüger 6012345678908 jonas.krueger@example.com    #3950 shipped (UPS); #3993 pending
                                                            ($199.00)
    Lena Vogel 6012345678909 lena.vogel@example.net         #1150 delivered 2026-09-06; #3760
                                                            delivered 2026-11-15 ($149.00);
                                                            zip 98103
    Kwame Mensah 6012345678910 kwame.mensah@example.org     #3300 delivered, no payment, no
                                                            fulfilment (white-glove, net 30)

Fixed stock (catalogue.py): Halden Oak Writing Desk Walnut/48 in 4, Walnut/60 in 0, Black/48 in
0; Tamsin Ergonomic Office Chair Fixed armrest 0, Adjustable/Mesh 12; Orbit Desk Lamp Brass/12 W
0; Steep Electric Kettle 1.7 L Matte White 0; Volt GaN Wall Charger 65 W 0, 100 W 6.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make ``second_store`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from second_store import fixed
from second_store.catalogue import build_products
from second_store.clock import REFERENCE, iso
from second_store.orders import COUNT, build_orders
from second_store.people import People
from supportgraph.domain.schema import STORE_SCHEMA_VERSION, Store

SEED = 20261121
OUTPUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "stores" / "homegoods.json"
STATUSES = ("pending", "processed", "shipped", "delivered", "cancelled", "returned")


def build_store(seed: int = SEED) -> dict[str, Any]:
    rng = random.Random(seed)
    products = build_products(rng)
    people = People(
        rng, {c["name"] for c in fixed.CUSTOMERS}, {c["email"] for c in fixed.CUSTOMERS}
    )
    orders, customers = build_orders(rng, products, people, seed)
    return {
        "schema_version": STORE_SCHEMA_VERSION,
        "name": "Hearth & Desk",
        "currency": "USD",
        "customers": customers,
        "products": products,
        "orders": orders,
    }


def check(store: Store) -> None:
    """What this store promises beyond the schema (the shape the tests count on)."""
    assert len(store.orders) == COUNT
    assert [o.id for o in store.orders] == [f"#{1001 + k}" for k in range(COUNT)]
    for kind, records in (("customer", store.customers), ("product", store.products)):
        ids = [r.id for r in records]
        assert len(ids) == len(set(ids)) and all(i.isdigit() for i in ids), kind
    variant_ids = [v.id for p in store.products for v in p.variants]
    assert len(variant_ids) == len(set(variant_ids)) and all(v.isdigit() for v in variant_ids)
    assert all(
        not {"size", "colour", "color"} & set(v.options) for p in store.products for v in p.variants
    )
    assert all(c.segment is None for c in store.customers)
    emails = [c.email for c in store.customers]
    assert len(emails) == len(set(emails))
    customers = {c.id for c in store.customers}
    reference = iso(REFERENCE)
    for order in store.orders:
        assert order.customer_id in customers, order.id
        assert order.created_at and "2026-09-01" <= order.created_at[:10] <= "2026-11-20", order.id
        assert order.updated_at and order.created_at <= order.updated_at < reference, order.id
        for fulfilment in order.fulfilments:
            assert fulfilment.delivered_at is None and fulfilment.eta is None, order.id
            assert fulfilment.shipped_at and fulfilment.shipped_at < reference, order.id
        if order.status in ("pending", "processed", "cancelled"):
            assert not order.fulfilments, order.id
    statuses: Counter[str] = Counter(o.status for o in store.orders)
    assert all(statuses[s] for s in STATUSES), statuses
    assert any(not o.payments for o in store.orders)
    assert any(
        o.status == "cancelled" and [p.status for p in o.payments] == ["failed"]
        for o in store.orders
    )


def summarize(store: Store) -> str:
    statuses: Counter[str] = Counter(o.status for o in store.orders)
    variants = [v for p in store.products for v in p.variants]
    option_keys = Counter(k for v in variants for k in v.options)
    repeat = Counter(o.customer_id for o in store.orders)
    return "\n".join(
        [
            f"{store.name}: {len(store.customers)} customers, {len(store.products)} products "
            f"({len(variants)} variants), {len(store.orders)} orders",
            "orders per status: " + ", ".join(f"{s}={statuses[s]}" for s in STATUSES),
            "option keys: " + ", ".join(f"{k}={n}" for k, n in sorted(option_keys.items())),
            f"orders without payments: {sum(1 for o in store.orders if not o.payments)}; "
            f"without fulfilments: {sum(1 for o in store.orders if not o.fulfilments)}; "
            f"customers with 2+ orders: {sum(1 for n in repeat.values() if n > 1)}",
        ]
    )


def dumps(data: dict[str, Any]) -> str:
    """One record per line: a readable diff when the generator changes, half the bytes of an
    indented file."""
    head = {k: v for k, v in data.items() if not isinstance(v, list)}
    parts = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in head.items()]
    for key in ("customers", "products", "orders"):
        rows = ",\n".join(f"  {json.dumps(r, ensure_ascii=False)}" for r in data[key])
        parts.append(f" {json.dumps(key)}: [\n{rows}\n ]")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def render(seed: int = SEED) -> tuple[str, Store]:
    """The store file's text, and the store it validates to (checked beyond the schema)."""
    data = build_store(seed)
    store = Store.model_validate(data)
    check(store)
    return dumps(data), store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=SEED, help="default: %(default)s")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the file differs"
    )
    args = parser.parse_args(argv)
    text, store = render(args.seed)
    data = text.encode("utf-8")
    if args.check:
        same = args.output.exists() and args.output.read_bytes() == data
        print(f"{args.output}: {'up to date' if same else 'differs from the generator'}")
        return 0 if same else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    print(summarize(store))
    print(f"wrote {args.output} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
