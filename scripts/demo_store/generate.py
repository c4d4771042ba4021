"""Write (or check) the demo store: ``supportgraph/brands/demo/store.json``.

    python scripts/demo_store/generate.py [--output PATH] [--check]

Deterministic: one ``random.Random(seed)`` drawn in a fixed order, every date derived from the
reference date (``data/shop.yaml``), no iteration over sets. Running it again gives the same bytes.
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

if __package__ in (None, ""):  # run as a file: make ``demo_store`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demo_store.catalogue import build_products
from demo_store.orders import FIRST_NUMBER, fixed_orders
from demo_store.people import build_customers
from demo_store.random_orders import Tracking, random_orders
from demo_store.report import check, summarize
from demo_store.tables import flatten, table
from supportgraph.domain.schema import STORE_SCHEMA_VERSION, Store

SHIPPED = Path(__file__).resolve().parents[2] / "supportgraph" / "brands" / "demo" / "store.json"


def build_store() -> dict[str, Any]:
    shop = table("shop")
    rng = random.Random(shop["seed"])
    customers = build_customers(rng)
    products = build_products(rng)
    tracking = Tracking(rng)
    orders = fixed_orders(customers, products)
    for o in orders:
        for f in o["fulfilments"]:
            tracking.used.add(f["tracking_number"])

    fixed_status = Counter(o["status"] for o in orders)
    target: dict[str, int] = table("orders")["statuses"]
    remaining = {s: n - fixed_status.get(s, 0) for s, n in target.items()}
    more = random_orders(rng, customers, products, tracking, flatten(remaining))
    for i, o in enumerate(more):
        o["id"] = f"SG-{FIRST_NUMBER + len(orders) + i}"
    orders.extend(more)

    return {
        "schema_version": STORE_SCHEMA_VERSION,
        "name": shop["name"],
        "currency": shop["currency"],
        "customers": customers,
        "products": products,
        "orders": orders,
    }


def render() -> tuple[str, Store]:
    """The store file's text, and the store it validates to (checked beyond the schema)."""
    data = build_store()
    store = Store(**data)
    check(store)
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n", store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=SHIPPED, help="default: %(default)s")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the file differs"
    )
    args = parser.parse_args(argv)
    text, store = render()
    data = text.encode("utf-8")
    if args.check:
        same = args.output.exists() and args.output.read_bytes() == data
        print(f"{args.output}: {'up to date' if same else 'differs from the generator'}")
        return 0 if same else 1
    args.output.write_bytes(data)
    print(summarize(store))
    print(f"wrote {args.output} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
