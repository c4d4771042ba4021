"""The write rules of supportgraph.domain.rules, without any store: eligibility by order
status, refund amounts, exchange and return effects on the order and the stock, what a
write saves (and so what its undo image holds), and the idempotency log's answers."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from supportgraph.domain import rules
from supportgraph.domain.policy import ELIGIBLE_STATUS
from supportgraph.domain.rules import ERASED, WriteRefused
from supportgraph.domain.schema import (
    Address,
    Customer,
    Order,
    OrderItem,
    Payment,
    PaymentMethod,
    Product,
    Variant,
)

NOW = "2026-05-01T10:00:00+00:00"
ADDRESS = Address(line1="Calle Mayor 1", city="Madrid", zip="28013", country="ES")


@dataclass
class Records:
    """What a store hands a rule: copies, so the rule's changes reach nothing stored."""

    orders: dict[str, Order] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)

    def order(self, order_id: str) -> Order | None:
        found = self.orders.get(order_id)
        return found.model_copy(deep=True) if found else None

    def product(self, product_id: str) -> Product | None:
        found = self.products.get(product_id)
        return found.model_copy(deep=True) if found else None

    def customer(self, customer_id: str) -> Customer | None:
        found = self.customers.get(customer_id)
        return found.model_copy(deep=True) if found else None


def shop(status: str = "pending", payments: list[Payment] | None = None) -> Records:
    order = Order(
        id="SG-1",
        customer_id="C1",
        status=status,  # type: ignore[arg-type]
        items=[
            OrderItem(product_id="P1", variant_id="P1-42", price=60.0, quantity=1),
            OrderItem(product_id="P1", variant_id="P1-43", price=12.5, quantity=2),
        ],
        payments=[Payment(amount=85.0, status="paid", method_id="pm-1")]
        if payments is None
        else payments,
    )
    product = Product(
        id="P1",
        name="Boot",
        variants=[
            Variant(id="P1-42", options={"size": "42"}, stock=1),
            Variant(id="P1-43", options={"size": "43"}, stock=0),
            Variant(id="P1-44", options={"size": "44"}, stock=5),
            Variant(id="P1-45", options={"size": "45"}, available=True),
        ],
    )
    customer = Customer(
        id="C1",
        name="Ana",
        zip="08001",
        payment_methods=[
            PaymentMethod(id="pm-1", kind="card"),
            PaymentMethod(id="pm-2", kind="paypal"),
        ],
        preferences={"language": "es", "channel": "email"},
    )
    return Records({"SG-1": order}, {"P1": product}, {"C1": customer})


def refusal(call: object) -> str:
    assert callable(call)
    with pytest.raises(WriteRefused) as info:
        call()
    return info.value.reason


def saved_order(effect: rules.Effect) -> Order:
    return next(r for r in effect.saved if isinstance(r, Order))


def saved_product(effect: rules.Effect) -> Product:
    return next(r for r in effect.saved if isinstance(r, Product))


# -- eligibility: the policy's status table is the store's ------------------------------------

ORDER_WRITES = {
    "cancel_order": lambda r: rules.cancel_order(r, "SG-1", "", NOW),
    "modify_order_address": lambda r: rules.modify_order_address(r, "SG-1", ADDRESS, NOW),
    "modify_order_items": lambda r: rules.modify_order_item(r, "SG-1", 0, "P1-44", NOW),
    "modify_order_payment": lambda r: rules.modify_order_payment(r, "SG-1", "pm-2", NOW),
    "retry_payment": lambda r: rules.retry_payment(r, "SG-1", NOW),
    "return_items": lambda r: rules.return_items(r, "SG-1", [0], "original", NOW),
    "exchange_items": lambda r: rules.exchange_item(r, "SG-1", 0, "P1-44", NOW),
}
STATUSES = ["pending", "processed", "shipped", "delivered", "cancelled", "returned"]


@pytest.mark.parametrize("tool", sorted(ORDER_WRITES))
@pytest.mark.parametrize("status", STATUSES)
def test_each_write_accepts_exactly_the_statuses_of_the_policy(tool: str, status: str) -> None:
    failed = [Payment(amount=85.0, status="failed", method_id="pm-1")]
    records = shop(status, failed if tool == "retry_payment" else None)
    if status in ELIGIBLE_STATUS[tool]:
        assert ORDER_WRITES[tool](records).saved
    else:
        assert refusal(lambda: ORDER_WRITES[tool](records)) == "not_eligible"


def test_an_unknown_order_is_not_found() -> None:
    with pytest.raises(WriteRefused, match="order SG-404 not found") as info:
        rules.cancel_order(shop(), "SG-404", "", NOW)
    assert info.value.reason == "not_found"


# -- cancel -----------------------------------------------------------------------------------


def test_cancelling_refunds_what_was_paid_or_authorized() -> None:
    records = shop(
        payments=[
            Payment(amount=50.0, status="paid"),
            Payment(amount=35.0, status="authorized"),
            Payment(amount=85.0, status="failed"),
        ]
    )
    effect = rules.cancel_order(records, "SG-1", "too slow", NOW)
    order = saved_order(effect)
    assert effect.result == {"order_id": "SG-1", "status": "cancelled", "refund": 85.0}
    assert order.status == "cancelled" and order.updated_at == NOW
    assert (order.payments[-1].amount, order.payments[-1].status) == (-85.0, "refunded")
    assert order.cancel_reason == "too slow"
    assert records.orders["SG-1"].status == "pending"  # only the effect holds the change


def test_cancelling_an_unpaid_order_refunds_nothing() -> None:
    effect = rules.cancel_order(
        shop(payments=[Payment(amount=85.0, status="failed")]), "SG-1", "", NOW
    )
    assert effect.result["refund"] == 0
    assert [p.status for p in saved_order(effect).payments] == ["failed"]


# -- returns ----------------------------------------------------------------------------------


def test_a_partial_return_refunds_its_items_to_the_original_payment() -> None:
    effect = rules.return_items(shop("delivered"), "SG-1", [1], "original", NOW)
    order = saved_order(effect)
    assert effect.result == {
        "order_id": "SG-1",
        "items": [1],
        "refund": 25.0,  # 12.50 x 2
        "refund_method": "original",
        "status": "delivered",  # one item is still with the customer
    }
    refund = order.payments[-1]
    assert (refund.amount, refund.status, refund.method_id, refund.at) == (
        -25.0,
        "refunded",
        "pm-1",
        NOW,
    )
    assert [c for c in effect.saved if isinstance(c, Customer)] == []


def test_returning_every_item_as_store_credit_credits_the_customer() -> None:
    records = shop("delivered")
    customer = records.customers["C1"]
    setattr(customer, "store_credit", 10.0)  # noqa: B010 - extra field of the open format
    effect = rules.return_items(records, "SG-1", [0, 1], "store_credit", NOW)
    credited, order = effect.saved  # the customer is saved before the order
    assert isinstance(credited, Customer) and credited.store_credit == 95.0
    assert isinstance(order, Order) and order.status == "returned"
    assert effect.result["refund"] == 85.0
    assert [p.status for p in order.payments] == ["paid"]  # no money goes back


@pytest.mark.parametrize(
    ("indexes", "method", "reason"),
    [
        ([0], "bitcoin", "bad_refund_method"),
        ([], "original", "unknown_item"),
        ([2], "original", "unknown_item"),
        ([-1], "original", "unknown_item"),
        ([0, 0], "original", "already_returned"),
    ],
)
def test_return_refusals(indexes: list[int], method: str, reason: str) -> None:
    assert (
        refusal(lambda: rules.return_items(shop("delivered"), "SG-1", indexes, method, NOW))
        == reason
    )


def test_a_returned_item_cannot_be_exchanged() -> None:
    records = shop("delivered")
    setattr(records.orders["SG-1"].items[0], "returned", True)  # noqa: B010
    assert refusal(lambda: rules.exchange_item(records, "SG-1", 0, "P1-44", NOW)) == (
        "already_returned"
    )


# -- stock moves: modify an item, exchange an item ---------------------------------------------


def test_an_exchange_takes_the_new_variant_from_stock_and_shelves_the_old_one() -> None:
    effect = rules.exchange_item(shop("delivered"), "SG-1", 0, "P1-44", NOW)
    product, order = effect.saved  # product first, as the store saves them
    assert isinstance(product, Product) and isinstance(order, Order)
    stock = {v.id: v.stock for v in product.variants}
    assert stock["P1-44"] == 4 and stock["P1-42"] == 2
    assert order.items[0].variant_id == "P1-44"
    assert order.exchanges == [{"item_index": 0, "from": "P1-42", "to": "P1-44", "at": NOW}]
    assert effect.result == {"order_id": "SG-1", "item_index": 0, "from": "P1-42", "to": "P1-44"}


def test_a_variant_without_counts_moves_no_numbers() -> None:
    effect = rules.modify_order_item(shop(), "SG-1", 1, "P1-45", NOW)
    stock = {v.id: v.stock for v in saved_product(effect).variants}
    assert stock["P1-45"] is None and stock["P1-43"] == 1  # the old one is released
    assert saved_order(effect).items[1].variant_id == "P1-45"


@pytest.mark.parametrize(
    ("variant", "reason"),
    [("P1-43", "out_of_stock"), ("P9-1", "unknown_variant")],
)
def test_stock_move_refusals(variant: str, reason: str) -> None:
    assert refusal(lambda: rules.modify_order_item(shop(), "SG-1", 0, variant, NOW)) == reason


def test_exchanging_for_the_same_variant_is_refused() -> None:
    assert refusal(lambda: rules.exchange_item(shop("delivered"), "SG-1", 0, "P1-42", NOW)) == (
        "unknown_variant"
    )


def test_a_missing_product_is_not_found() -> None:
    records = shop()
    records.products.clear()
    assert refusal(lambda: rules.modify_order_item(records, "SG-1", 0, "P1-44", NOW)) == "not_found"


# -- payments -----------------------------------------------------------------------------------


def test_a_payment_change_moves_open_payments_to_the_customers_method() -> None:
    records = shop(
        payments=[
            Payment(amount=85.0, status="paid", method_id="pm-1"),
            Payment(amount=5.0, status="failed", method_id="pm-1"),
        ]
    )
    order = saved_order(rules.modify_order_payment(records, "SG-1", "pm-2", NOW))
    assert [p.method_id for p in order.payments] == ["pm-1", "pm-2"]  # paid stays paid


def test_an_order_without_payments_gets_one_for_its_total() -> None:
    order = saved_order(rules.modify_order_payment(shop(payments=[]), "SG-1", "pm-2", NOW))
    assert [(p.amount, p.status, p.method_id) for p in order.payments] == [
        (85.0, "pending", "pm-2")
    ]


def test_another_customers_method_is_refused() -> None:
    assert refusal(lambda: rules.modify_order_payment(shop(), "SG-1", "pm-9", NOW)) == (
        "unknown_method"
    )


def test_retry_authorizes_the_failed_amount_again() -> None:
    records = shop(payments=[Payment(amount=85.0, status="failed", method_id="pm-2")])
    effect = rules.retry_payment(records, "SG-1", NOW)
    last = saved_order(effect).payments[-1]
    assert (last.amount, last.status, last.method_id) == (85.0, "authorized", "pm-2")
    assert effect.result == {"order_id": "SG-1", "payment_status": "authorized", "amount": 85.0}
    assert refusal(lambda: rules.retry_payment(shop(), "SG-1", NOW)) == "nothing_to_retry"


# -- customer and CRM writes --------------------------------------------------------------------


def test_a_new_address_also_changes_the_zip_the_customer_is_found_by() -> None:
    (customer,) = rules.update_customer_address(shop(), "C1", ADDRESS).saved
    assert isinstance(customer, Customer)
    assert customer.address == ADDRESS and customer.zip == "28013"
    no_zip = Address(line1="Calle Mayor 1", city="Madrid")
    (kept,) = rules.update_customer_address(shop(), "C1", no_zip).saved
    assert isinstance(kept, Customer) and kept.zip == "08001"


def test_preferences_merge() -> None:
    effect = rules.update_preferences(shop(), "C1", {"language": "en"})
    assert effect.result["preferences"] == {"language": "en", "channel": "email"}
    assert refusal(lambda: rules.update_preferences(shop(), "C9", {})) == "not_found"


def test_an_interaction_keeps_2000_characters_of_its_summary() -> None:
    effect = rules.record_interaction(None, "t1", "handoff", "x" * 2500)
    assert effect.interaction == rules.Interaction(None, "t1", "handoff", "x" * 2000)
    assert effect.result == {"recorded": "handoff"} and effect.saved == []


def test_a_restock_subscription_without_variant_is_for_the_whole_product() -> None:
    effect = rules.subscribe_restock("C1", "P1", None)
    assert effect.restock == ("C1", "P1", "")
    assert effect.result == {"customer_id": "C1", "product_id": "P1", "variant_id": None}


# -- the idempotency log ------------------------------------------------------------------------


def test_a_logged_key_replays_its_first_result() -> None:
    first = {"order_id": "SG-1", "status": "cancelled", "refund": 85.0}
    again = rules.replayed("k1", "cancel_order", "SG-1", ("cancel_order", "SG-1", first))
    assert again == {**first, "replayed": True}


@pytest.mark.parametrize(
    ("action", "target"), [("retry_payment", "SG-1"), ("cancel_order", "SG-2")]
)
def test_a_key_used_for_another_write_is_refused(action: str, target: str) -> None:
    logged = ("cancel_order", "SG-1", {"refund": 1.0})
    with pytest.raises(WriteRefused, match="key k1 was used for cancel_order SG-1") as info:
        rules.replayed("k1", action, target, logged)
    assert info.value.reason == "key_reused"


def test_an_erased_customers_write_still_replays_under_its_new_target() -> None:
    logged = ("update_preferences", "erased-1234", ERASED)
    again = rules.replayed("k1", "update_preferences", "C1", logged)
    assert again == {"erased": True, "replayed": True}
    assert refusal(lambda: rules.replayed("k1", "cancel_order", "C1", logged)) == "key_reused"
