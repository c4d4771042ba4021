"""What the SQLite store guarantees beyond the contract: concurrent writers (coroutines,
threads, a second connection as another process would hold) still write once per key, and
a copy of the store as of a moment undoes exactly the later writes (replay forks)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from supportgraph.backends.sqlite import SqliteStore
from supportgraph.domain.schema import Address, Store
from tests.contract.stores import NEW_ADDRESS, order, state


def _pending_ids(demo: Store) -> list[str]:
    return sorted(o.id for o in demo.orders if o.status == "pending")


async def test_concurrent_writes_land_exactly_once(sqlite: SqliteStore, full_demo: Store) -> None:
    pending = _pending_ids(full_demo)
    assert len(pending) == 20
    to_cancel, to_move = pending[:10], pending[10:]
    calls: list[tuple[str, Callable[[], Awaitable[dict[str, Any]]]]] = []
    for oid in to_cancel:  # 10 orders x 3 tries with one key each = 30 calls
        key = f"cancel-{oid}"
        calls += [(key, partial(sqlite.cancel_order, oid, "", key))] * 3
    for oid in to_move:  # 10 orders x 2 tries with one key each = 20 calls
        key = f"addr-{oid}"
        calls += [(key, partial(sqlite.modify_order_address, oid, NEW_ADDRESS, key))] * 2
    assert len(calls) == 50
    random.Random(7).shuffle(calls)

    results = await asyncio.gather(*(call() for _, call in calls))

    fresh: dict[str, int] = {}
    for (key, _), result in zip(calls, results, strict=True):
        if not result.get("replayed"):
            fresh[key] = fresh.get(key, 0) + 1
    assert fresh == {f"cancel-{o}": 1 for o in to_cancel} | {f"addr-{o}": 1 for o in to_move}
    log = sqlite.writes_log()
    assert len(log) == 20
    assert sorted(w["target"] for w in log) == pending
    for oid in to_cancel:
        cancelled = await order(sqlite, oid)
        assert cancelled.status == "cancelled"
        assert [p.status for p in cancelled.payments].count("refunded") <= 1
    for oid in to_move:
        moved = await order(sqlite, oid)
        assert moved.status == "pending" and moved.shipping_address == NEW_ADDRESS


async def test_two_instances_in_threads_share_keys(sqlite: SqliteStore, full_demo: Store) -> None:
    """Two connections to one file, written from many threads: still one write per key."""
    other = SqliteStore(sqlite.path)
    pending = _pending_ids(full_demo)
    try:
        jobs = []
        for i in range(50):
            backend = sqlite if i % 2 else other
            oid = pending[i % len(pending)]
            jobs.append(asyncio.to_thread(asyncio.run, backend.cancel_order(oid, "", f"c-{oid}")))
        results = await asyncio.gather(*jobs)
        assert sum(not r.get("replayed") for r in results) == len(pending)
        for backend in (sqlite, other):
            assert sorted(w["target"] for w in backend.writes_log()) == pending
            assert {(await order(backend, oid)).status for oid in pending} == {"cancelled"}
    finally:
        other.close()


async def test_a_second_instance_sees_the_writes(sqlite: SqliteStore) -> None:
    await sqlite.cancel_order("SG-10001", "", "k1")
    await sqlite.modify_order_item("SG-10005", 0, "P2016-1", "k2")
    await sqlite.update_preferences("C1001", {"language": "en"}, "k3")
    other = SqliteStore(sqlite.path)
    try:
        assert (await order(other, "SG-10001")).status == "cancelled"
        assert (await order(other, "SG-10005")).items[0].variant_id == "P2016-1"
        customer = await other.get_customer("C1001")
        assert customer is not None and customer.preferences["language"] == "en"
        assert other.writes_log() == sqlite.writes_log()
        assert other.export() == sqlite.export()
        # A retry through the other process replays instead of writing again ...
        again = await other.cancel_order("SG-10001", "", "k1")
        assert again["replayed"] is True and len(other.writes_log()) == 3
        # ... and what the other process writes, the first one sees.
        await other.retry_payment("SG-10005", "k4")
        assert (await order(sqlite, "SG-10005")).payments[-1].status == "authorized"
        assert [w["key"] for w in sqlite.writes_log()] == ["k1", "k2", "k3", "k4"]
    finally:
        other.close()


async def test_a_copy_as_of_a_moment_undoes_later_writes_only(
    sqlite: SqliteStore, tmp_path: Path
) -> None:
    await sqlite.update_preferences("C1003", {"channel": "sms"}, "before")
    kept = state(sqlite)
    moment = time.time()
    await sqlite.exchange_item("SG-10003", 0, "P2001-14", "k1")  # an order and a product
    await sqlite.subscribe_restock("C1001", "P2001", "P2001-14", "k2")
    await sqlite.record_interaction("C1001", "t1", "note", "called", "k3")
    await sqlite.update_customer_address(
        "C1001", Address(line1="Neue Str. 1", city="Berlin", zip="10117", country="DE"), "k4"
    )
    live = state(sqlite)
    report = sqlite.copy_as_of(moment, tmp_path / "copy.db")
    copy = SqliteStore(tmp_path / "copy.db")
    assert state(copy) == kept and report.undone == 4 and not report.reloaded_after
    assert state(sqlite) == live  # the live store is only read
    # The copy's undo entries are gone with its writes; erasing a customer erases theirs.
    assert copy._db.execute("SELECT count(*) FROM write_undo").fetchone()[0] == 1
    sqlite.erase_customer("C1001")
    rows = sqlite._db.execute("SELECT before FROM write_undo").fetchall()
    assert not any("anna" in (before or "").lower() for (before,) in rows)
    copy.close()


async def test_a_file_keyed_by_an_older_version_is_rekeyed_when_opened(
    tmp_path: Path, full_demo: Store
) -> None:
    """A customer saved while names kept the space next to CJK characters and postcodes were
    stored as spelled is still found by the keys today's lookup computes."""
    store = full_demo.model_copy(deep=True)
    customer = store.customers[0]
    customer.name, customer.zip = "王 小明", "100-0001"
    path = tmp_path / "old.db"
    first = SqliteStore(path)
    first.replace_all(store)
    # What a file written before the keys changed holds: the old keys, and no version.
    first._db.execute(
        "UPDATE customers SET name_norm = ?, zip = ? WHERE id = ?",
        ("王 小明", "100-0001", customer.id),
    )
    first._db.execute("DELETE FROM meta WHERE key = 'lookup_keys'")
    assert await first.find_customer_by_name_zip("王小明", "1000001") is None
    first.close()

    reopened = SqliteStore(path)
    for name, zip_code in (("王小明", "100-0001"), ("王 小明", "1000001")):
        found = await reopened.find_customer_by_name_zip(name, zip_code)
        assert found is not None and found.id == customer.id
    reopened.close()
