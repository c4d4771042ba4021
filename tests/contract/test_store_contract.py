"""One contract suite for every StoreBackend: the SQLite, in-memory and PostgreSQL stores.

Each test gets a fresh store loaded with the demo data. Every write is checked by the
state change it leaves behind (read back through the backend, not taken from its
result), every refusal by its reason and by proving nothing changed, and every key by
proving it wrote once. A new backend joins by adding its name to `BACKENDS` (stores.py).
SQLite's own guarantees (concurrency, a second process, copies as of a moment) are in
test_sqlite_store.py, PostgreSQL's (workers sharing a database, erasure) in
test_postgres_store.py.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from supportgraph.backends.loader import load_store_file
from supportgraph.backends.protocols import StoreBackend, WriteRefused
from supportgraph.domain.schema import Address, Customer, Order, Store
from tests.contract.stores import (
    BACKENDS,
    DEMO_STORE,
    NEW_ADDRESS,
    Backend,
    open_backend,
    order,
    refused,
    state,
    stock,
)

# -- the Protocol ---------------------------------------------------------------------------


def _protocol_methods() -> dict[str, inspect.Signature]:
    names = {
        name
        for cls in StoreBackend.__mro__
        if cls.__module__ == "supportgraph.backends.protocols"
        for name, value in vars(cls).items()
        if inspect.iscoroutinefunction(value)
    }
    return {name: inspect.signature(getattr(StoreBackend, name)) for name in names}


def test_every_backend_implements_every_protocol_method(store: Backend) -> None:
    methods = _protocol_methods()
    assert len(methods) == 20
    impl = type(store)
    for name, wanted in methods.items():
        method = getattr(impl, name)
        assert inspect.iscoroutinefunction(method), (impl, name)
        assert list(inspect.signature(method).parameters) == list(wanted.parameters), (impl, name)


async def test_write_applied_tells_a_key_already_written(store: Backend) -> None:
    # A turn finished again after a crash asks this before its policy check.
    assert await store.write_applied("t-crash:2:cancel_order") is False
    await store.cancel_order("SG-10001", "customer request", "t-crash:2:cancel_order")
    assert await store.write_applied("t-crash:2:cancel_order") is True
    assert await store.write_applied("t-crash:3:cancel_order") is False


# -- lookups ---------------------------------------------------------------------------------


async def test_find_customer_by_email_ignores_case_and_spaces(store: Backend) -> None:
    for spelling in ("anna.schmidt@example.com", "  Anna.Schmidt@EXAMPLE.com "):
        found = await store.find_customer_by_email(spelling)
        assert found is not None and found.id == "C1001" and found.name == "Anna Schmidt"
    vip = await store.find_customer_by_email("CARLOS.GARCIA@example.com")
    assert vip is not None and vip.id == "C1002" and vip.segment == "vip"
    assert await store.find_customer_by_email("nobody@example.com") is None
    assert await store.find_customer_by_email("") is None


async def test_find_customer_by_name_and_zip(store: Backend) -> None:
    for name, zip_code in [("Anna Schmidt", "10115"), ("  anna   SCHMIDT ", " 10115 ")]:
        found = await store.find_customer_by_name_zip(name, zip_code)
        assert found is not None and found.id == "C1001"
    accentless = await store.find_customer_by_name_zip("Carlos Garcia", "28013")
    assert accentless is not None and accentless.id == "C1002"
    assert await store.find_customer_by_name_zip("Anna Schmidt", "28013") is None
    assert await store.find_customer_by_name_zip("Anna Schmitt", "10115") is None


async def test_get_customer(store: Backend) -> None:
    found = await store.get_customer("C1002")
    assert found is not None and found.email == "carlos.garcia@example.com"
    assert {m.id for m in found.payment_methods} >= {"pm-C1002-1", "pm-C1002-2"}
    assert await store.get_customer("C9999") is None


@pytest.mark.parametrize(
    "spelling", ["SG-10001", "sg10001", "#SG-10001", "SG 10001", " sg-10001 ", "#sg10001"]
)
async def test_get_order_accepts_the_spellings_customers_use(store: Backend, spelling: str) -> None:
    found = await order(store, spelling)
    assert found.id == "SG-10001" and found.status == "pending"
    assert [(i.product_id, i.variant_id) for i in found.items] == [("P2002", "P2002-2")]


@pytest.mark.parametrize("unknown", ["SG-99999", "sg99999", "", "hello", "10001"])
async def test_get_order_unknown_is_none(store: Backend, unknown: str) -> None:
    assert await store.get_order(unknown) is None


@pytest.mark.parametrize("kind", BACKENDS)
@pytest.mark.parametrize(
    ("spelling", "stored"),
    [
        ("w1234567", "#W1234567"),
        ("# W 1234567", "#W1234567"),
        ("#W-1234567", "#W1234567"),
        ("1042", "1042"),
        ("#1042", "1042"),
        ("ord 2024 000123", "ORD-2024-000123"),
        ("ORD2024000123", "ORD-2024-000123"),
    ],
)
async def test_another_shops_ids_are_found_and_kept_as_the_store_spells_them(
    kind: str, spelling: str, stored: str, tmp_path: Path
) -> None:
    ids = ["#W1234567", "1042", "ORD-2024-000123"]
    other = Store(
        currency="USD",
        customers=[Customer(id="7001", name="Dana Reyes", email="dana@example.net")],
        orders=[Order(id=i, customer_id="7001", status="pending") for i in ids],
    )
    backend = open_backend(kind, other, tmp_path / "other.db")
    found = await backend.get_order(spelling)
    assert found is not None and found.id == stored
    assert await backend.get_order("W-7654321") is None


async def test_list_orders(store: Backend) -> None:
    orders = await store.list_orders("C1001")
    ids = [o.id for o in orders]
    assert {"SG-10001", "SG-10002", "SG-10003"} <= set(ids)
    assert ids == sorted(ids, reverse=True)
    assert all(o.customer_id == "C1001" for o in orders)
    statuses = {o.id: o.status for o in orders}
    assert statuses["SG-10002"] == "shipped" and statuses["SG-10003"] == "delivered"
    assert "SG-10005" in {o.id for o in await store.list_orders("C1002")}
    assert await store.list_orders("C9999") == []


async def test_products(store: Backend) -> None:
    sneakers = await store.get_product("P2001")
    assert sneakers is not None and sneakers.name == "Trail Runner Sneakers"
    products = await store.list_products()
    assert [p.id for p in products] == sorted(p.id for p in products)
    assert {"P2001", "P2002"} <= {p.id for p in products}
    assert await store.get_product("P9999") is None


async def test_check_stock(store: Backend) -> None:
    black = await store.check_stock("P2001", {"size": "42", "colour": "black"})
    assert [(v.id, ok) for v, ok in black] == [("P2001-5", False)]
    white = await store.check_stock("P2001", {"size": "42", "colour": "White "})
    assert [(v.id, v.options["colour"], ok) for v, ok in white] == [("P2001-14", "white", True)]
    any_colour = await store.check_stock("P2001", {"size": "42"})
    assert {v.options["colour"] for v, _ in any_colour} == {"black", "white", "blue"}
    # Options the product does not have, and empty values, do not narrow the match.
    ignored = await store.check_stock("P2001", {"size": "42", "material": "leather", "fit": ""})
    assert [v.id for v, _ in ignored] == [v.id for v, _ in any_colour]
    assert await store.check_stock("P2001", {"size": "99"}) == []
    assert await store.check_stock("P9999", {"size": "42"}) == []


async def test_returned_records_are_copies(store: Backend) -> None:
    customer = await store.get_customer("C1001")
    found = await order(store, "SG-10001")
    product = await store.get_product("P2001")
    assert customer is not None and product is not None
    customer.name = "Mallory"
    customer.preferences["language"] = "xx"
    found.status = "cancelled"
    found.items[0].variant_id = "P2002-1"
    product.variants[4].stock = 99
    (variant, _), *_ = await store.check_stock("P2001", {"size": "42", "colour": "black"})
    variant.stock = 99
    for listed in await store.list_orders("C1001"):
        listed.status = "returned"

    again = await store.get_customer("C1001")
    assert again is not None and again.name == "Anna Schmidt"
    assert again.preferences["language"] == "de"
    assert (await order(store, "SG-10001")).status == "pending"
    assert (await order(store, "SG-10001")).items[0].variant_id == "P2002-2"
    assert (await order(store, "SG-10002")).status == "shipped"
    assert (await stock(store, "P2001"))["P2001-5"] == 0


async def test_written_inputs_are_not_shared(store: Backend) -> None:
    address = NEW_ADDRESS.model_copy()
    prefs = {"language": "en"}
    await store.modify_order_address("SG-10001", address, "k-addr")
    await store.update_preferences("C1001", prefs, "k-prefs")
    address.city = "Elsewhere"
    prefs["language"] = "xx"
    shipping = (await order(store, "SG-10001")).shipping_address
    assert shipping is not None and shipping.city == "München"
    customer = await store.get_customer("C1001")
    assert customer is not None and customer.preferences["language"] == "en"


# -- writes: happy paths --------------------------------------------------------------------


async def test_cancel_order(store: Backend) -> None:
    result = await store.cancel_order("SG-10001", "changed my mind", "k1")
    assert result == {"order_id": "SG-10001", "status": "cancelled", "refund": 79.0}
    cancelled = await order(store, "SG-10001")
    assert cancelled.status == "cancelled"
    assert cancelled.payments[-1].status == "refunded" and cancelled.payments[-1].amount == -79.0
    assert getattr(cancelled, "cancel_reason", None) == "changed my mind"
    assert [(w["key"], w["action"], w["target"], w["result"]) for w in store.writes_log()] == [
        ("k1", "cancel_order", "SG-10001", result)
    ]


async def test_cancel_an_order_whose_payment_failed_refunds_nothing(store: Backend) -> None:
    before = await order(store, "SG-10005")
    result = await store.cancel_order("SG-10005", "", "k1")
    assert result["refund"] == 0
    after = await order(store, "SG-10005")
    assert after.status == "cancelled" and after.payments == before.payments


async def test_modify_order_address(store: Backend) -> None:
    result = await store.modify_order_address("SG-10001", NEW_ADDRESS, "k1")
    assert result["shipping_address"] == NEW_ADDRESS.model_dump(exclude_none=True)
    changed = await order(store, "SG-10001")
    assert changed.shipping_address == NEW_ADDRESS and changed.status == "pending"


async def test_modify_order_item_moves_stock(store: Backend) -> None:
    before = await stock(store, "P2002")
    result = await store.modify_order_item("SG-10001", 0, "P2002-6", "k1")
    assert result == {"order_id": "SG-10001", "item_index": 0, "from": "P2002-2", "to": "P2002-6"}
    assert (await order(store, "SG-10001")).items[0].variant_id == "P2002-6"
    after = await stock(store, "P2002")
    assert after["P2002-6"] == before["P2002-6"] - 1  # the new size M grey is reserved
    assert after["P2002-2"] == before["P2002-2"] + 1  # the old size M navy is released
    unchanged = {k: v for k, v in after.items() if k not in ("P2002-2", "P2002-6")}
    assert unchanged == {k: v for k, v in before.items() if k not in ("P2002-2", "P2002-6")}


async def test_modify_order_payment(store: Backend) -> None:
    result = await store.modify_order_payment("SG-10005", "pm-C1002-2", "k1")
    assert result == {"order_id": "SG-10005", "method_id": "pm-C1002-2"}
    payment = (await order(store, "SG-10005")).payments[-1]
    assert payment.method_id == "pm-C1002-2" and payment.status == "failed"


async def test_modify_order_payment_refuses_a_method_of_another_customer(store: Backend) -> None:
    await refused(
        store, store.modify_order_payment("SG-10005", "pm-C1001-1", "k1"), "unknown_method"
    )
    assert (await order(store, "SG-10005")).payments[-1].method_id == "pm-C1002-1"


async def test_return_items_refunds_the_original_payment(store: Backend) -> None:
    result = await store.return_items("SG-10003", [0], "original", "k1")
    assert result == {
        "order_id": "SG-10003",
        "items": [0],
        "refund": 89.9,
        "refund_method": "original",
        "status": "returned",
    }
    returned = await order(store, "SG-10003")
    assert returned.status == "returned"
    assert getattr(returned.items[0], "returned", False) is True
    refund = returned.payments[-1]
    assert (refund.amount, refund.status, refund.method_id) == (-89.9, "refunded", "pm-C1001-1")


async def test_return_items_as_store_credit(store: Backend) -> None:
    payments = (await order(store, "SG-10003")).payments
    result = await store.return_items("SG-10003", [0], "store_credit", "k1")
    assert result["refund"] == 89.9 and result["refund_method"] == "store_credit"
    returned = await order(store, "SG-10003")
    assert returned.status == "returned" and returned.payments == payments
    customer = await store.get_customer("C1001")
    assert customer is not None and getattr(customer, "store_credit", None) == 89.9


async def test_store_credit_adds_up(store: Backend, demo: Store) -> None:
    delivered: dict[str, list[Order]] = {}
    for o in demo.orders:
        if o.status == "delivered" and o.items:
            delivered.setdefault(o.customer_id, []).append(o)
    customer_id, (first, second, *_) = next(
        (c, orders) for c, orders in delivered.items() if len(orders) >= 2
    )
    amounts = []
    for i, returned in enumerate((first, second)):
        result = await store.return_items(returned.id, [0], "store_credit", f"k{i}")
        amounts.append(result["refund"])
    customer = await store.get_customer(customer_id)
    assert customer is not None
    assert getattr(customer, "store_credit", None) == round(sum(amounts), 2) > 0


async def test_exchange_item(store: Backend) -> None:
    before = await stock(store, "P2001")
    result = await store.exchange_item("SG-10003", 0, "P2001-14", "k1")
    assert result == {"order_id": "SG-10003", "item_index": 0, "from": "P2001-6", "to": "P2001-14"}
    after = await stock(store, "P2001")
    # 42 white ships (5 -> 4); the returned 43 black goes back into stock.
    assert after == {**before, "P2001-14": before["P2001-14"] - 1, "P2001-6": before["P2001-6"] + 1}
    exchanged = await order(store, "SG-10003")
    assert exchanged.status == "delivered" and exchanged.items[0].variant_id == "P2001-14"
    await refused(store, store.exchange_item("SG-10003", 0, "P2001-14", "k2"), "unknown_variant")
    exchanges = getattr(exchanged, "exchanges", None)
    assert exchanges is not None and len(exchanges) == 1
    assert {k: exchanges[0][k] for k in ("item_index", "from", "to")} == {
        "item_index": 0,
        "from": "P2001-6",
        "to": "P2001-14",
    }


async def test_retry_payment(store: Backend) -> None:
    result = await store.retry_payment("SG-10005", "k1")
    assert result == {"order_id": "SG-10005", "payment_status": "authorized", "amount": 159.0}
    payments = (await order(store, "SG-10005")).payments
    assert [p.status for p in payments] == ["failed", "authorized"]
    assert (payments[-1].amount, payments[-1].method_id) == (159.0, "pm-C1002-1")
    # The last payment is now authorized: nothing left to retry.
    await refused(store, store.retry_payment("SG-10005", "k2"), "nothing_to_retry")


async def test_update_customer_address(store: Backend) -> None:
    result = await store.update_customer_address("C1001", NEW_ADDRESS, "k1")
    assert result == {"customer_id": "C1001", "address": NEW_ADDRESS.model_dump(exclude_none=True)}
    customer = await store.get_customer("C1001")
    assert customer is not None and customer.address == NEW_ADDRESS and customer.zip == "80331"
    # The name + zip identity check follows the new zip.
    moved = await store.find_customer_by_name_zip("Anna Schmidt", "80331")
    assert moved is not None and moved.id == "C1001"
    assert await store.find_customer_by_name_zip("Anna Schmidt", "10115") is None


async def test_a_postcode_is_found_however_the_customer_spaces_and_cases_it(store: Backend) -> None:
    dutch = Address(line1="Prinsengracht 263", zip="1016 GV", city="Amsterdam", country="NL")
    await store.update_customer_address("C1001", dutch, "k1")
    for typed in ["1016 GV", "1016GV", "1016 gv"]:
        found = await store.find_customer_by_name_zip("Anna Schmidt", typed)
        assert found is not None and found.id == "C1001", typed
    assert await store.find_customer_by_name_zip("Anna Schmidt", "1016 GW") is None
    japanese = Address(line1="千代田1-1", zip="100-0001", city="千代田区", country="JP")
    await store.update_customer_address("C1001", japanese, "k2")
    found = await store.find_customer_by_name_zip("Anna Schmidt", "〒1000001")
    assert found is not None and found.id == "C1001"
    found = await store.find_customer_by_email("anna.schmidt@example.com")
    assert found is not None and found.id == "C1001"


async def test_update_preferences_merges(store: Backend) -> None:
    result = await store.update_preferences("C1001", {"language": "en"}, "k1")
    assert result == {
        "customer_id": "C1001",
        "preferences": {"language": "en", "contact_channel": "email"},
    }
    customer = await store.get_customer("C1001")
    assert customer is not None
    assert customer.preferences == {"language": "en", "contact_channel": "email"}


async def test_record_interaction(store: Backend) -> None:
    assert await store.record_interaction("C1001", "t1", "cancel", "cancelled SG-10001", "k1") == {
        "recorded": "cancel"
    }
    await store.record_interaction(None, "t2", "transfer_to_human", "x" * 5000, "k2")
    assert store.interactions("C1001") == [
        {
            "customer_id": "C1001",
            "thread_id": "t1",
            "kind": "cancel",
            "summary": "cancelled SG-10001",
        }
    ]
    everything = store.interactions()
    assert [i["thread_id"] for i in everything] == ["t1", "t2"]
    assert everything[1]["customer_id"] is None and len(everything[1]["summary"]) == 2000
    assert [(w["action"], w["target"]) for w in store.writes_log()] == [
        ("record_interaction", "t1"),
        ("record_interaction", "t2"),
    ]


async def test_subscribe_restock(store: Backend) -> None:
    result = await store.subscribe_restock("C1001", "P2001", "P2001-5", "k1")
    assert result == {"customer_id": "C1001", "product_id": "P2001", "variant_id": "P2001-5"}
    await store.subscribe_restock("C1001", "P2001", "P2001-5", "k2")  # already subscribed
    await store.subscribe_restock("C1002", "P2002", None, "k3")
    await store.subscribe_restock("C1002", "P2002", None, "k4")
    assert sorted(store.restock_subscriptions()) == [
        ("C1001", "P2001", "P2001-5"),
        ("C1002", "P2002", ""),
    ]
    assert [w["target"] for w in store.writes_log()] == ["P2001", "P2001", "P2002", "P2002"]


# -- writes: refusals -----------------------------------------------------------------------


async def test_cancel_a_shipped_order_is_not_eligible(store: Backend) -> None:
    await refused(store, store.cancel_order("SG-10002", "too late", "k1"), "not_eligible")
    assert (await order(store, "SG-10002")).status == "shipped"
    assert store.writes_log() == []


async def test_exchange_to_an_out_of_stock_variant(store: Backend) -> None:
    await refused(store, store.exchange_item("SG-10003", 0, "P2001-5", "k1"), "out_of_stock")
    assert (await stock(store, "P2001"))["P2001-5"] == 0
    assert getattr(await order(store, "SG-10003"), "exchanges", None) is None


async def test_retry_an_order_without_a_failed_payment(store: Backend) -> None:
    await refused(store, store.retry_payment("SG-10001", "k1"), "nothing_to_retry")
    assert [p.status for p in (await order(store, "SG-10001")).payments] == ["authorized"]


@pytest.mark.parametrize(
    ("write", "reason"),
    [
        (lambda s: s.cancel_order("SG-99999", "", "k"), "not_found"),
        (lambda s: s.cancel_order("SG-10003", "", "k"), "not_eligible"),
        (lambda s: s.modify_order_address("SG-10002", NEW_ADDRESS, "k"), "not_eligible"),
        (lambda s: s.modify_order_item("SG-10001", 0, "P2002-5", "k"), "out_of_stock"),
        (lambda s: s.modify_order_item("SG-10001", 0, "P2001-14", "k"), "unknown_variant"),
        (lambda s: s.modify_order_item("SG-10001", 3, "P2002-6", "k"), "unknown_item"),
        (lambda s: s.modify_order_item("SG-10001", -1, "P2002-6", "k"), "unknown_item"),
        (lambda s: s.modify_order_item("SG-10003", 0, "P2001-14", "k"), "not_eligible"),
        (lambda s: s.modify_order_payment("SG-10002", "pm-C1001-2", "k"), "not_eligible"),
        (lambda s: s.return_items("SG-10001", [0], "original", "k"), "not_eligible"),
        (lambda s: s.return_items("SG-10003", [0], "bitcoin", "k"), "bad_refund_method"),
        (lambda s: s.return_items("SG-10003", [1], "original", "k"), "unknown_item"),
        (lambda s: s.return_items("SG-10003", [0, 0], "original", "k"), "already_returned"),
        (lambda s: s.exchange_item("SG-10001", 0, "P2002-6", "k"), "not_eligible"),
        (lambda s: s.exchange_item("SG-10003", 0, "P2002-6", "k"), "unknown_variant"),
        (lambda s: s.retry_payment("SG-10003", "k"), "not_eligible"),
        (lambda s: s.update_customer_address("C9999", NEW_ADDRESS, "k"), "not_found"),
        (lambda s: s.update_preferences("C9999", {"language": "en"}, "k"), "not_found"),
    ],
)
async def test_refusals_change_nothing(
    store: Backend, write: Callable[[Backend], Awaitable[Any]], reason: str
) -> None:
    await refused(store, write(store), reason)
    assert store.writes_log() == []


async def test_a_returned_item_cannot_be_returned_or_exchanged_again(store: Backend) -> None:
    await store.return_items("SG-10003", [0], "original", "k1")
    await refused(store, store.return_items("SG-10003", [0], "original", "k2"), "not_eligible")
    await refused(store, store.exchange_item("SG-10003", 0, "P2001-14", "k3"), "not_eligible")


async def test_refusal_messages_match_between_backends(demo: Store, tmp_path: Path) -> None:
    messages = []
    for kind in BACKENDS:
        backend = open_backend(kind, demo, tmp_path / f"{kind}.db")
        with pytest.raises(WriteRefused) as info:
            await backend.exchange_item("SG-10003", 0, "P2001-5", "k")
        messages.append((info.value.reason, str(info.value)))
    assert messages == [("out_of_stock", "P2001-5 is out of stock")] * len(BACKENDS)


# -- idempotency ----------------------------------------------------------------------------


async def test_the_same_key_writes_once(store: Backend) -> None:
    first = await store.cancel_order("SG-10001", "changed my mind", "k1")
    second = await store.cancel_order("SG-10001", "changed my mind", "k1")
    assert "replayed" not in first
    assert second == {**first, "replayed": True}
    cancelled = await order(store, "SG-10001")
    assert [p.status for p in cancelled.payments] == ["authorized", "refunded"]
    assert len(store.writes_log()) == 1
    # A new key is a new write, and the order is no longer eligible.
    await refused(store, store.cancel_order("SG-10001", "again", "k2"), "not_eligible")


async def test_a_replayed_stock_move_moves_stock_once(store: Backend) -> None:
    before = await stock(store, "P2002")
    results = [await store.modify_order_item("SG-10001", 0, "P2002-6", "k1") for _ in range(3)]
    assert [r.get("replayed", False) for r in results] == [False, True, True]
    after = await stock(store, "P2002")
    assert after["P2002-6"] == before["P2002-6"] - 1 and after["P2002-2"] == before["P2002-2"] + 1
    assert len(store.writes_log()) == 1


@pytest.mark.parametrize(
    "write",
    [
        lambda s, k: s.modify_order_address("SG-10001", NEW_ADDRESS, k),
        lambda s, k: s.modify_order_payment("SG-10005", "pm-C1002-3", k),
        lambda s, k: s.return_items("SG-10003", [0], "store_credit", k),
        lambda s, k: s.exchange_item("SG-10003", 0, "P2001-14", k),
        lambda s, k: s.retry_payment("SG-10005", k),
        lambda s, k: s.update_customer_address("C1001", NEW_ADDRESS, k),
        lambda s, k: s.update_preferences("C1001", {"language": "en"}, k),
        lambda s, k: s.record_interaction("C1001", "t1", "note", "hello", k),
        lambda s, k: s.subscribe_restock("C1001", "P2001", "P2001-5", k),
    ],
)
async def test_every_write_replays_its_key(
    store: Backend, write: Callable[[Backend, str], Awaitable[dict[str, Any]]]
) -> None:
    first = await write(store, "k1")
    after_first = state(store)
    second = await write(store, "k1")
    assert second == {**first, "replayed": True}
    assert state(store) == after_first
    assert len(store.writes_log()) == 1 and store.writes_log()[0]["result"] == first


async def test_a_refusal_does_not_consume_its_key(store: Backend) -> None:
    await refused(
        store, store.modify_order_payment("SG-10005", "pm-C1001-1", "k1"), "unknown_method"
    )
    result = await store.modify_order_payment("SG-10005", "pm-C1002-2", "k1")
    assert "replayed" not in result and result["method_id"] == "pm-C1002-2"
    assert (await order(store, "SG-10005")).payments[-1].method_id == "pm-C1002-2"
    assert [w["key"] for w in store.writes_log()] == ["k1"]


async def test_a_key_reused_for_another_write_is_refused(store: Backend) -> None:
    await store.cancel_order("SG-10001", "", "k1")
    before = state(store)
    with pytest.raises(WriteRefused) as refused:
        await store.modify_order_address("SG-10005", NEW_ADDRESS, "k1")
    assert refused.value.reason == "key_reused"
    assert state(store) == before


async def test_replacing_the_store_forgets_old_keys(store: Backend) -> None:
    await store.cancel_order("SG-10001", "", "k1")
    store.replace_all(load_store_file(DEMO_STORE))
    again = await store.cancel_order("SG-10001", "", "k1")
    assert "replayed" not in again and (await store.get_order("SG-10001")).status == "cancelled"


async def test_the_write_log(store: Backend) -> None:
    first = await store.cancel_order("SG-10001", "", "k1")
    await store.cancel_order("SG-10001", "", "k1")
    second = await store.retry_payment("SG-10005", "k2")
    assert store.writes_log() == [
        {"key": "k1", "action": "cancel_order", "target": "SG-10001", "result": first},
        {"key": "k2", "action": "retry_payment", "target": "SG-10005", "result": second},
    ]
    store.writes_log()[0]["result"]["refund"] = 0  # the log hands out copies
    assert store.writes_log()[0]["result"] == first


# -- both backends behave alike -------------------------------------------------------------

_TIMESTAMPS = {"at", "updated_at"}


def _scrub(value: Any) -> Any:
    """Drop the write-time timestamps, which differ from run to run."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in _TIMESTAMPS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


async def _script(store: Backend) -> list[Any]:
    steps: list[Callable[[], Awaitable[Any]]] = [
        lambda: store.cancel_order("sg10001", "", "a"),  # writes take the exact id
        lambda: store.modify_order_item("SG-10001", 0, "P2002-6", "b"),
        lambda: store.modify_order_item("SG-10001", 0, "P2002-6", "b"),
        lambda: store.modify_order_address("SG-10001", NEW_ADDRESS, "c"),
        lambda: store.modify_order_payment("SG-10001", "pm-C1001-2", "d"),
        lambda: store.cancel_order("SG-10001", "no longer needed", "e"),
        lambda: store.cancel_order("SG-10001", "no longer needed", "f"),
        lambda: store.modify_order_payment("SG-10005", "pm-C1001-2", "g"),
        lambda: store.retry_payment("SG-10005", "g"),
        lambda: store.retry_payment("SG-10005", "h"),
        lambda: store.exchange_item("SG-10003", 0, "P2001-5", "i"),
        lambda: store.exchange_item("SG-10003", 0, "P2001-14", "i"),
        lambda: store.exchange_item("SG-10003", 0, "P2001-15", "j"),
        lambda: store.return_items("SG-10003", [0], "store_credit", "k"),
        lambda: store.return_items("SG-10003", [0], "store_credit", "l"),
        lambda: store.update_customer_address("C1002", NEW_ADDRESS, "m"),
        lambda: store.update_preferences("C1002", {"contact_channel": "email"}, "n"),
        lambda: store.record_interaction("C1002", "t", "note", "hi", "o"),
        lambda: store.subscribe_restock("C1002", "P2001", None, "p"),
        lambda: store.cancel_order("SG-10005", "", "q"),
    ]
    outcomes: list[Any] = []
    for step in steps:
        try:
            outcomes.append(("ok", _scrub(await step())))
        except WriteRefused as refusal:
            outcomes.append(("refused", refusal.reason, str(refusal)))
    return outcomes


async def test_every_backend_behaves_like_sqlite(demo: Store, tmp_path: Path) -> None:
    runs = {}
    for kind in BACKENDS:
        backend = open_backend(kind, demo, tmp_path / f"{kind}.db")
        outcomes = await _script(backend)
        runs[kind] = (outcomes, _scrub(state(backend)))
    sqlite_outcomes, sqlite_state = runs["sqlite"]
    for kind, (outcomes, final_state) in runs.items():
        assert outcomes == sqlite_outcomes, kind
        assert final_state == sqlite_state, kind
    assert [o[0] for o in sqlite_outcomes].count("refused") >= 5
