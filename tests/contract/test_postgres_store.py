"""What the PostgreSQL store guarantees beyond the contract: several workers (processes or
hosts, here two PostgresStore instances with their own connection pools) share one database
without losing an update or applying a key twice; migrations run once however many workers
open together; the store file loads once; erasure leaves no trace in any table and matches
SQLite's; a copy as of a moment undoes exactly the later writes."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from supportgraph.backends.factory import open_store
from supportgraph.backends.postgres import PostgresStore
from supportgraph.backends.protocols import WriteRefused
from supportgraph.backends.sqlite import SqliteStore
from supportgraph.config import Settings
from supportgraph.domain.rules import ERASED
from supportgraph.domain.schema import Address, Store
from supportgraph.runtime.privacy import Matcher
from tests.contract.stores import DEMO_STORE, NEW_ADDRESS, order, state

ANNA_NEW = Address(line1="Oranienstraße 185", city="Berlin", zip="10999", country="DE")


@pytest.fixture
def workers(pg_url: str, full_demo: Store) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    """Two workers on one database holding the whole demo store."""
    first = PostgresStore(pg_url)
    first.replace_all(full_demo)
    second = PostgresStore(pg_url)
    yield first, second
    first.close()
    second.close()


def at_once(calls: list[Callable[[], Coroutine[Any, Any, Any]]]) -> list[Any]:
    """Run each call in its own thread (its own event loop), released together: what two
    worker processes do to the database. The results, or the exceptions raised, in order."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = asyncio.run(calls[index]())
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _pending_with_spare_variant(demo: Store) -> list[tuple[str, str, str]]:
    """(order, product, another in-stock variant of its first item) for pending orders."""
    products = {p.id: p for p in demo.products}
    found = []
    for o in demo.orders:
        if o.status != "pending" or not o.items:
            continue
        item = o.items[0]
        spare = next(
            (
                v.id
                for v in products[item.product_id].variants
                if v.id != item.variant_id and (v.stock or 0) > 0
            ),
            None,
        )
        if spare:
            found.append((o.id, item.product_id, spare))
    return found


# -- concurrency between workers ----------------------------------------------------------------


async def test_two_workers_changing_one_order_lose_no_update(
    workers: tuple[PostgresStore, PostgresStore], full_demo: Store
) -> None:
    """Worker one moves each order's address while worker two swaps its item, at the same
    moment: every order keeps both changes, and stock moves once per swap."""
    first, second = workers
    targets = _pending_with_spare_variant(full_demo)
    assert len(targets) >= 10
    stock_before = {p.id: {v.id: v.stock for v in p.variants} for p in full_demo.products}
    calls: list[Callable[[], Coroutine[Any, Any, Any]]] = []
    for oid, _, spare in targets:
        calls.append(lambda o=oid: first.modify_order_address(o, NEW_ADDRESS, f"addr-{o}"))
        calls.append(lambda o=oid, v=spare: second.modify_order_item(o, 0, v, f"item-{o}"))

    results = at_once(calls)

    assert not [r for r in results if isinstance(r, BaseException)]
    expected = {p: dict(s) for p, s in stock_before.items()}
    for oid, product_id, spare in targets:
        changed = await order(second, oid)
        assert changed.shipping_address == NEW_ADDRESS, oid
        assert changed.items[0].variant_id == spare, oid
        original = next(o for o in full_demo.orders if o.id == oid).items[0].variant_id
        counts = expected[product_id]
        counts[spare] = (counts[spare] or 0) - 1
        if counts.get(original) is not None:
            counts[original] = (counts[original] or 0) + 1
    for product in await first.list_products():
        assert {v.id: v.stock for v in product.variants} == expected[product.id], product.id
    assert len(first.writes_log()) == 2 * len(targets)


async def test_store_credit_from_two_workers_adds_up(
    workers: tuple[PostgresStore, PostgresStore], full_demo: Store
) -> None:
    """Returns as store credit on several orders of one customer, from both workers at once:
    the customer's credit is the sum of every refund (a lost update would drop some)."""
    first, second = workers
    delivered: dict[str, list[str]] = {}
    for o in full_demo.orders:
        if o.status == "delivered" and o.items:
            delivered.setdefault(o.customer_id, []).append(o.id)
    customer_id, order_ids = max(delivered.items(), key=lambda kv: len(kv[1]))
    assert len(order_ids) >= 2
    calls: list[Callable[[], Coroutine[Any, Any, Any]]] = [
        lambda o=oid, s=(first, second)[i % 2]: s.return_items(o, [0], "store_credit", f"r-{o}")
        for i, oid in enumerate(order_ids)
    ]
    results = at_once(calls)
    assert not [r for r in results if isinstance(r, BaseException)]
    customer = await first.get_customer(customer_id)
    assert customer is not None
    credit = getattr(customer, "store_credit", None)
    assert credit == round(sum(r["refund"] for r in results), 2) > 0


async def test_one_key_from_two_workers_applies_once(
    workers: tuple[PostgresStore, PostgresStore],
) -> None:
    """The same cancellation (one idempotency key) sent 12 times at once through both
    workers: one cancellation and one refund; every other call replays its result."""
    first, second = workers
    calls: list[Callable[[], Coroutine[Any, Any, Any]]] = [
        lambda s=(first, second)[i % 2]: s.cancel_order("SG-10001", "", "turn-7:cancel")
        for i in range(12)
    ]
    results = at_once(calls)

    assert not [r for r in results if isinstance(r, BaseException)]
    fresh = [r for r in results if not r.get("replayed")]
    assert len(fresh) == 1
    assert all(r == {**fresh[0], "replayed": True} for r in results if r is not fresh[0])
    cancelled = await order(first, "SG-10001")
    assert [p.status for p in cancelled.payments] == ["authorized", "refunded"]
    assert [w["key"] for w in second.writes_log()] == ["turn-7:cancel"]


async def test_different_keys_on_one_order_from_two_workers_refund_once(
    workers: tuple[PostgresStore, PostgresStore],
) -> None:
    """Ten different cancellations of one order at once: one is applied, the others see
    the cancelled order and are refused; the refund is paid once."""
    first, second = workers
    calls: list[Callable[[], Coroutine[Any, Any, Any]]] = [
        lambda i=i, s=(first, second)[i % 2]: s.cancel_order("SG-10001", "", f"k{i}")
        for i in range(10)
    ]
    results = at_once(calls)

    refusals = [r for r in results if isinstance(r, WriteRefused)]
    assert len(refusals) == 9 and {r.reason for r in refusals} == {"not_eligible"}
    payments = (await order(second, "SG-10001")).payments
    assert [p.status for p in payments] == ["authorized", "refunded"]
    assert len(first.writes_log()) == 1


# -- opening ------------------------------------------------------------------------------------


def _migrations(url: str) -> list[tuple[str, int, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT component, version, name FROM sg_migrations WHERE component = 'store'"
        ).fetchall()
    return [(c, v, n) for c, v, n in rows]


async def test_migrations_apply_once_when_workers_open_together(pg_url: str, demo: Store) -> None:
    async def open_one() -> PostgresStore:
        return PostgresStore(pg_url)

    opened = at_once([open_one] * 4)
    assert all(isinstance(s, PostgresStore) for s in opened), opened
    try:
        assert _migrations(pg_url) == [("store", 1, "store tables")]
        opened[0].replace_all(demo)
        await opened[1].cancel_order("SG-10001", "", "k1")
        assert (await order(opened[2], "SG-10001")).status == "cancelled"
        assert (await opened[3].cancel_order("SG-10001", "", "k1"))["replayed"] is True
    finally:
        for store in opened:
            store.close()
    PostgresStore(pg_url).close()  # opening again applies nothing
    assert _migrations(pg_url) == [("store", 1, "store tables")]


async def test_the_store_file_loads_once_and_never_over_writes(pg_url: str, demo: Store) -> None:
    first = PostgresStore(pg_url)
    second = PostgresStore(pg_url)
    try:
        assert first.is_empty()
        assert first.load_if_empty(demo) is True
        await first.cancel_order("SG-10001", "", "k1")
        # A worker that saw the database empty a moment ago loads nothing now.
        assert second.load_if_empty(demo) is False
        assert (await order(second, "SG-10001")).status == "cancelled"
        assert await second.write_applied("k1")
    finally:
        first.close()
        second.close()


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(data_dir=tmp_path, store_path=DEMO_STORE, **values)


async def test_a_database_url_picks_the_postgres_store(pg_url: str, tmp_path: Path) -> None:
    """With SUPPORTGRAPH_DATABASE_URL the store is Postgres unless store_backend says
    otherwise; it is loaded from the store file once and keeps its writes across opens."""
    store = open_store(_settings(tmp_path, database_url=pg_url))
    assert isinstance(store, PostgresStore)
    await store.cancel_order("SG-10001", "", "k1")
    store.close()
    again = open_store(_settings(tmp_path, database_url=pg_url, store_backend="postgres"))
    try:
        assert isinstance(again, PostgresStore)
        assert (await order(again, "SG-10001")).status == "cancelled"
        assert await again.write_applied("k1")
    finally:
        again.close()
    chosen = open_store(_settings(tmp_path, database_url=pg_url, store_backend="sqlite"))
    assert isinstance(chosen, SqliteStore) and (tmp_path / "store.db").exists()
    chosen.close()
    with pytest.raises(ValueError, match="SUPPORTGRAPH_DATABASE_URL"):
        open_store(_settings(tmp_path, store_backend="postgres"))


# -- privacy ------------------------------------------------------------------------------------


async def _anna_and_carlos(store: PostgresStore | SqliteStore) -> None:
    """Writes about C1001 (Anna) in every table, and some about C1002 (Carlos) that stay."""
    await store.update_customer_address("C1001", ANNA_NEW, "a1")
    await store.update_preferences("C1001", {"language": "en"}, "a2")
    await store.cancel_order("SG-10001", "Anna changed her mind", "a3")
    await store.return_items("SG-10003", [0], "store_credit", "a4")
    await store.record_interaction("C1001", "t-anna", "cancel", "cancelled SG-10001", "a5")
    await store.record_interaction(None, "t-handoff", "transfer", "anna.schmidt@example.com", "a6")
    await store.subscribe_restock("C1001", "P2001", "P2001-5", "a7")
    await store.update_preferences("C1002", {"language": "es"}, "c1")
    await store.record_interaction("C1002", "t-carlos", "note", "asked about sizes", "c2")
    await store.subscribe_restock("C1002", "P2002", None, "c3")


def _rows_naming(url: str, pattern: re.Pattern[str]) -> list[str]:
    """Every row of every table in the database whose text matches."""
    found = []
    with psycopg.connect(url) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        for table in tables:
            for (text,) in conn.execute(f"SELECT t::text FROM {table} t"):
                if pattern.search(text):
                    found.append(f"{table}: {text[:200]}")
    return found


async def test_erasure_leaves_no_trace_in_any_table(pg_url: str, demo: Store) -> None:
    store = PostgresStore(pg_url)
    try:
        store.replace_all(demo)
        await _anna_and_carlos(store)
        anna = re.compile(
            r"(?<![A-Za-z0-9])C1001(?![0-9])|anna\.schmidt@example\.com|Anna Schmidt"
            r"|Kastanienallee 21|Oranienstra|changed her mind",
            re.IGNORECASE,
        )
        assert len(_rows_naming(pg_url, anna)) > 10  # the pattern finds her before
        identifiers = store.customer_identifiers("C1001")
        assert identifiers is not None
        assert "Oranienstraße 185" in identifiers["streets"]
        assert "Kastanienallee 21" in identifiers["streets"]  # her address before the move
        matcher = Matcher.for_customer(identifiers, store.other_customers("C1001"))

        assert store.erase_customer("C1001", matcher, {"t-anna"}) is True

        assert _rows_naming(pg_url, anna) == []
        # Orders stay for accounting, under an anonymous id; keys stay, results scrubbed.
        kept = await order(store, "SG-10001")
        assert kept.customer_id.startswith("erased-") and kept.status == "cancelled"
        assert kept.shipping_address is None and kept.payments[0].method_id is None
        log = {w["key"]: w["result"] for w in store.writes_log()}
        # a6 (a handoff naming her by email, in another thread) logged no data of hers.
        assert [k for k, r in log.items() if r == ERASED] == ["a1", "a2", "a3", "a4", "a5", "a7"]
        assert (await store.cancel_order("SG-10001", "", "a3"))["replayed"] is True
        # Carlos is untouched.
        carlos = await store.get_customer("C1002")
        assert carlos is not None and carlos.preferences["language"] == "es"
        assert store.interactions("C1002")[0]["summary"] == "asked about sizes"
        assert ("C1002", "P2002", "") in store.restock_subscriptions()
        assert store.erase_customer("C1001") is False
        assert store.customer_identifiers("C1001") is None
    finally:
        store.close()


def _without_erased_ids(value: Any) -> Any:
    """The anonymous id an erasure draws at random, and write-time stamps, made comparable."""
    if isinstance(value, dict):
        return {
            k: _without_erased_ids(v) for k, v in value.items() if k not in ("at", "updated_at")
        }
    if isinstance(value, list):
        return [_without_erased_ids(v) for v in value]
    if isinstance(value, str) and value.startswith("erased-"):
        return "erased-*"
    return value


async def test_export_and_erasure_match_sqlite(pg_url: str, demo: Store, tmp_path: Path) -> None:
    postgres = PostgresStore(pg_url)
    sqlite = SqliteStore(tmp_path / "store.db")
    try:
        seen = []
        for store in (postgres, sqlite):
            store.replace_all(demo)
            await _anna_and_carlos(store)
            identifiers = store.customer_identifiers("C1001")
            assert identifiers is not None
            matcher = Matcher.for_customer(identifiers, store.other_customers("C1001"))
            exported = store.customer_data("C1001", matcher, {"t-anna"})
            interactions = store.customer_interactions("C1001", matcher, {"t-anna"})
            assert store.erase_customer("C1001", matcher, {"t-anna"})
            seen.append(
                _without_erased_ids(
                    {
                        "identifiers": identifiers,
                        "others": sorted(c.id for c in store.other_customers("C1001")),
                        "export": exported,
                        "interactions": interactions,
                        "after": state(store),
                    }
                )
            )
        assert seen[0]["export"]["restock_subscriptions"] == [
            {"product_id": "P2001", "variant_id": "P2001-5"}
        ]
        assert [i["thread_id"] for i in seen[0]["interactions"]] == ["t-anna", "t-handoff"]
        assert seen[0] == seen[1]
        assert postgres.checkpoint_wal() is True  # nothing left to truncate on Postgres
    finally:
        postgres.close()
        sqlite.close()


# -- copies as of a moment (replay) ---------------------------------------------------------------


async def test_a_copy_as_of_a_moment_undoes_later_writes_only(
    pg_url: str, demo: Store, tmp_path: Path
) -> None:
    live = PostgresStore(pg_url)
    try:
        live.replace_all(demo)
        await live.update_preferences("C1003", {"channel": "sms"}, "before")
        kept = state(live)
        moment = time.time()
        await live.exchange_item("SG-10003", 0, "P2001-14", "k1")  # an order and a product
        await live.subscribe_restock("C1001", "P2001", "P2001-14", "k2")
        await live.record_interaction("C1001", "t1", "note", "called", "k3")
        await live.update_customer_address("C1001", ANNA_NEW, "k4")
        now = state(live)

        report = live.copy_as_of(moment, tmp_path / "copy.db")

        copy = SqliteStore(tmp_path / "copy.db")
        assert state(copy) == kept and report.undone == 4 and not report.reloaded_after
        assert state(live) == now  # the live store is only read
        assert copy._db.execute("SELECT count(*) FROM write_undo").fetchone()[0] == 1
        copy.close()
        live.replace_all(demo)
        assert live.copy_as_of(moment, tmp_path / "copy.db").reloaded_after
    finally:
        live.close()
