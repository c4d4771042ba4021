"""What the generator checks in its output beyond the schema, and the summary it prints."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from demo_store.clock import REF_DT, REFERENCE_DATE
from demo_store.tables import table
from supportgraph.domain.schema import Store

STATUSES = ("pending", "processed", "shipped", "delivered", "cancelled", "returned")


def check(store: Store) -> None:
    """Invariants beyond the schema."""
    assert len(store.customers) == table("customers")["count"]
    assert len(store.orders) == sum(table("orders")["statuses"].values())
    for attr, items in (
        ("customer", store.customers),
        ("product", store.products),
        ("order", store.orders),
    ):
        ids = [x.id for x in items]
        assert len(ids) == len(set(ids)), f"duplicate {attr} ids"
    emails = [c.email for c in store.customers]
    assert len(emails) == len(set(emails)), "duplicate emails"
    variants = {v.id: (p, v) for p in store.products for v in p.variants}
    customers = {c.id: c for c in store.customers}
    ref_start = REF_DT.isoformat()
    oldest = (REF_DT - timedelta(days=90)).isoformat()
    for o in store.orders:
        assert o.customer_id in customers
        assert o.created_at is not None and o.updated_at is not None, o.id
        assert oldest <= o.created_at < ref_start and o.created_at <= o.updated_at < ref_start, o.id
        method_ids = {m.id for m in customers[o.customer_id].payment_methods}
        for p in o.payments:
            assert p.method_id in method_ids, o.id
        for it in o.items:
            assert it.variant_id is not None, o.id
            product, variant = variants[it.variant_id]
            assert product.id == it.product_id and it.price == variant.price, o.id
        assert bool(o.fulfilments) == (o.status in ("shipped", "delivered", "returned")), o.id
        if o.status == "returned":
            assert o.payments[-1].status == "refunded"


def counts(counter: Counter[str | None], keys: tuple[str | None, ...] | list[str]) -> str:
    return ", ".join(f"{k}={counter[k]}" for k in keys)


def summarize(store: Store) -> str:
    lines = [
        f"{store.name}: {len(store.customers)} customers, {len(store.products)} products "
        f"({sum(len(p.variants) for p in store.products)} variants), {len(store.orders)} orders"
    ]
    status: Counter[str | None] = Counter(o.status for o in store.orders)
    lines.append("orders per status: " + counts(status, STATUSES))
    seg: Counter[str | None] = Counter(c.segment for c in store.customers)
    lines.append(
        "customers per segment: " + counts(seg, ("vip", "regular", "new", "at_risk", None))
    )
    countries: Counter[str | None] = Counter(
        c.address.country for c in store.customers if c.address
    )
    lines.append("customers per country: " + counts(countries, sorted(str(k) for k in countries)))
    types: Counter[str | None] = Counter(p.type for p in store.products)
    lines.append("products per type: " + counts(types, sorted(str(t) for t in types)))
    all_variants = [v for p in store.products for v in p.variants]
    counted = [v for v in all_variants if v.stock is not None]
    zero = [v for v in counted if v.stock == 0]
    uncounted = [v for v in all_variants if v.stock is None]
    lines.append(
        f"zero-stock variants: {len(zero)} of {len(counted)} counted "
        f"({100 * len(zero) / len(counted):.1f}%); without counts: {len(uncounted)} "
        f"({sum(1 for v in uncounted if v.available)} available)"
    )
    delivered = [o for o in store.orders if o.status == "delivered"]
    recent = sum(
        1
        for o in delivered
        if (REFERENCE_DATE - date.fromisoformat(str(o.fulfilments[0].delivered_at)[:10])).days <= 30
    )
    lines.append(f"delivered within 30 days: {recent}, earlier: {len(delivered) - recent}")
    failed = sum(
        1
        for o in store.orders
        if o.status == "pending" and o.payments and o.payments[-1].status == "failed"
    )
    lines.append(f"pending orders with a failed payment: {failed}")
    carriers: Counter[str | None] = Counter(f.carrier for o in store.orders for f in o.fulfilments)
    no_eta = sum(1 for o in store.orders for f in o.fulfilments if f.eta is None)
    lines.append(
        "fulfilments per carrier: "
        + counts(carriers, sorted(str(k) for k in carriers))
        + f"; without eta: {no_eta}"
    )
    return "\n".join(lines)
