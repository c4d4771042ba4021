"""The write rules: what each store write may do, and what it changes. Pure, no storage.

A rule reads the records it needs through `Records` (copies: the rule may change them),
refuses with `WriteRefused(reason)` when the write is not allowed, and otherwise returns an
`Effect`: the records as they are after the write, in the order they are saved, the row it
adds (a CRM interaction, a restock subscription) and the result handed back to the caller.
A backend's job is the rest: transactions, the idempotency log and the undo log. Because the
rule raises before anything is saved, a refused write changes nothing in any backend.

Undo images (for replay's copies of the store "as it was"): every record in `Effect.saved`
and the restock row are kept as they were before the write; an added interaction is undone
by deleting it. Statuses a write accepts are the policy's table (`policy.ELIGIBLE_STATUS`),
so the guard and the store cannot disagree on which orders a tool may change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from supportgraph.domain.catalogue import in_stock, order_total
from supportgraph.domain.policy import ELIGIBLE_STATUS
from supportgraph.domain.schema import Address, Customer, Order, OrderItem, Payment, Product

WriteResult = dict[str, Any]
Record = Customer | Order | Product
REFUND_METHODS = ("original", "store_credit")
SUMMARY_CHARS = 2000  # a CRM interaction keeps this much of its summary
ERASED = {"erased": True}  # the logged result of a write whose customer was erased


class WriteRefused(Exception):
    """The backend refused a write (ineligible order, out of stock, unknown variant...)."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


class Records(Protocol):
    """What a rule may read: copies of stored records, or None when there is none."""

    def order(self, order_id: str) -> Order | None: ...
    def product(self, product_id: str) -> Product | None: ...
    def customer(self, customer_id: str) -> Customer | None: ...


@dataclass(frozen=True)
class Interaction:
    customer_id: str | None
    thread_id: str
    kind: str
    summary: str


@dataclass
class Effect:
    result: WriteResult
    saved: list[Record] = field(default_factory=list)  # changed records, in save order
    interaction: Interaction | None = None  # a CRM row to add
    restock: tuple[str, str, str] | None = None  # (customer, product, variant or "") to add


# -- the idempotency log -----------------------------------------------------------------------


def replayed(
    key: str, action: str, target: str, logged: tuple[str, str | None, WriteResult]
) -> WriteResult:
    """The answer to a write whose key is already logged as (action, target, result): the
    first result again, marked replayed; a key used for another write is refused. An erased
    customer's write keeps its key but not its target: a retry of the action is a replay."""
    logged_action, logged_target, result = logged
    if logged_action != action or (logged_target != target and result != ERASED):
        raise WriteRefused("key_reused", f"key {key} was used for {logged_action} {logged_target}")
    return {**result, "replayed": True}


# -- reading what a write needs ------------------------------------------------------------------


def order_to_change(records: Records, order_id: str, tool: str) -> Order:
    """The order, if it exists and its status lets `tool` change it."""
    order = records.order(order_id)
    if order is None:
        raise WriteRefused("not_found", f"order {order_id} not found")
    if order.status not in ELIGIBLE_STATUS[tool]:
        raise WriteRefused("not_eligible", f"order {order_id} is {order.status}")
    return order


def customer_of(records: Records, customer_id: str) -> Customer:
    customer = records.customer(customer_id)
    if customer is None:
        raise WriteRefused("not_found", f"customer {customer_id} not found")
    return customer


def item_of(order: Order, index: int) -> OrderItem:
    if not 0 <= index < len(order.items):
        raise WriteRefused("unknown_item", f"order {order.id} has no item {index}")
    return order.items[index]


def is_returned(item: OrderItem) -> bool:
    return bool(getattr(item, "returned", False))


def move_stock(records: Records, product_id: str, take: str, give_back: str | None) -> Product:
    """The product with one unit of variant `take` reserved (refused when out of stock) and
    one unit of `give_back` released (an exchanged original goes back on the shelf)."""
    product = records.product(product_id)
    if product is None:
        raise WriteRefused("not_found", f"product {product_id} not found")
    variants = {v.id: v for v in product.variants}
    wanted = variants.get(take)
    if wanted is None:
        raise WriteRefused("unknown_variant", f"{take} is not a variant of {product_id}")
    if not in_stock(wanted):
        raise WriteRefused("out_of_stock", f"{take} is out of stock")
    if wanted.stock is not None:
        wanted.stock -= 1
    if give_back and give_back in variants and variants[give_back].stock is not None:
        variants[give_back].stock = (variants[give_back].stock or 0) + 1
    return product


# -- order writes ---------------------------------------------------------------------------------


def cancel_order(records: Records, order_id: str, reason: str, now: str) -> Effect:
    """A pending order is cancelled; what was paid or authorized is refunded in full."""
    order = order_to_change(records, order_id, "cancel_order")
    order.status = "cancelled"
    paid = sum(p.amount for p in order.payments if p.status in ("paid", "authorized"))
    if paid:
        order.payments.append(Payment(amount=-paid, status="refunded", at=now))
    order.updated_at = now
    setattr(order, "cancel_reason", reason)  # noqa: B010 - extra field of the open format
    return Effect({"order_id": order.id, "status": "cancelled", "refund": round(paid, 2)}, [order])


def modify_order_address(records: Records, order_id: str, address: Address, now: str) -> Effect:
    order = order_to_change(records, order_id, "modify_order_address")
    order.shipping_address = address.model_copy(deep=True)
    order.updated_at = now
    result = {"order_id": order.id, "shipping_address": address.model_dump(exclude_none=True)}
    return Effect(result, [order])


def modify_order_item(
    records: Records, order_id: str, item_index: int, variant_id: str, now: str
) -> Effect:
    """A pending order's item becomes another variant: its stock is reserved, the old one's
    released."""
    order = order_to_change(records, order_id, "modify_order_items")
    item = item_of(order, item_index)
    product = move_stock(records, item.product_id, variant_id, item.variant_id)
    old = item.variant_id
    item.variant_id = variant_id
    order.updated_at = now
    result = {"order_id": order.id, "item_index": item_index, "from": old, "to": variant_id}
    return Effect(result, [product, order])


def modify_order_payment(records: Records, order_id: str, method_id: str, now: str) -> Effect:
    """Open payments move to another of the customer's own methods (an order without any
    payment gets one, pending, for its total)."""
    order = order_to_change(records, order_id, "modify_order_payment")
    customer = customer_of(records, order.customer_id)
    if method_id not in {m.id for m in customer.payment_methods}:
        raise WriteRefused("unknown_method", f"{method_id} is not a payment method of the customer")
    for payment in order.payments:
        if payment.status in ("pending", "failed", "authorized"):
            payment.method_id = method_id
    if not order.payments:
        order.payments.append(
            Payment(amount=order_total(order), status="pending", method_id=method_id)
        )
    order.updated_at = now
    return Effect({"order_id": order.id, "method_id": method_id}, [order])


def return_items(
    records: Records, order_id: str, item_indexes: list[int], refund_method: str, now: str
) -> Effect:
    """Delivered items go back: each refunds price x quantity, to the original payment or as
    store credit; the order is "returned" once every item is."""
    order = order_to_change(records, order_id, "return_items")
    if refund_method not in REFUND_METHODS:
        raise WriteRefused("bad_refund_method", refund_method)
    if not item_indexes:
        raise WriteRefused("unknown_item", f"no items of order {order_id} to return")
    amount = 0.0
    for index in item_indexes:
        item = item_of(order, index)
        if is_returned(item):
            raise WriteRefused("already_returned", f"item {index} was already returned")
        setattr(item, "returned", True)  # noqa: B010 - extra field of the open format
        amount += (item.price or 0.0) * item.quantity
    amount = round(amount, 2)
    if all(is_returned(i) for i in order.items):
        order.status = "returned"
    saved: list[Record] = []
    if refund_method == "original":
        method = next((p.method_id for p in order.payments if p.status == "paid"), None)
        order.payments.append(Payment(amount=-amount, status="refunded", method_id=method, at=now))
    else:
        customer = customer_of(records, order.customer_id)
        credit = float(getattr(customer, "store_credit", 0.0) or 0.0) + amount
        setattr(customer, "store_credit", round(credit, 2))  # noqa: B010
        saved.append(customer)
    order.updated_at = now
    result = {
        "order_id": order.id,
        "items": list(item_indexes),
        "refund": amount,
        "refund_method": refund_method,
        "status": order.status,
    }
    return Effect(result, [*saved, order])


def exchange_item(
    records: Records, order_id: str, item_index: int, variant_id: str, now: str
) -> Effect:
    """A delivered item is swapped for another variant: the replacement ships from stock,
    the returned original goes back into stock, and the order keeps a note of the swap."""
    order = order_to_change(records, order_id, "exchange_items")
    item = item_of(order, item_index)
    if is_returned(item):
        raise WriteRefused("already_returned", f"item {item_index} was already returned")
    if item.variant_id == variant_id:
        raise WriteRefused("unknown_variant", f"item {item_index} already is {variant_id}")
    product = move_stock(records, item.product_id, variant_id, item.variant_id)
    previous = item.variant_id
    item.variant_id = variant_id
    exchanges = list(getattr(order, "exchanges", None) or [])
    exchanges.append({"item_index": item_index, "from": previous, "to": variant_id, "at": now})
    setattr(order, "exchanges", exchanges)  # noqa: B010 - extra field of the open format
    order.updated_at = now
    result = {"order_id": order.id, "item_index": item_index, "from": previous, "to": variant_id}
    return Effect(result, [product, order])


def retry_payment(records: Records, order_id: str, now: str) -> Effect:
    """A pending order's failed last payment is tried again, on the same method."""
    order = order_to_change(records, order_id, "retry_payment")
    if not order.payments or order.payments[-1].status != "failed":
        raise WriteRefused("nothing_to_retry", f"order {order_id} has no failed payment")
    last = order.payments[-1]
    order.payments.append(
        Payment(amount=last.amount, status="authorized", method_id=last.method_id, at=now)
    )
    order.updated_at = now
    result = {"order_id": order.id, "payment_status": "authorized", "amount": last.amount}
    return Effect(result, [order])


# -- customer and CRM writes ------------------------------------------------------------------------


def update_customer_address(records: Records, customer_id: str, address: Address) -> Effect:
    """The profile address (and the zip the customer is found by, when the address has one)."""
    customer = customer_of(records, customer_id)
    customer.address = address.model_copy(deep=True)
    if address.zip:
        customer.zip = address.zip
    result = {"customer_id": customer_id, "address": address.model_dump(exclude_none=True)}
    return Effect(result, [customer])


def update_preferences(records: Records, customer_id: str, preferences: dict[str, str]) -> Effect:
    """Preferences merge: keys not named keep their value."""
    customer = customer_of(records, customer_id)
    customer.preferences = {**customer.preferences, **preferences}
    result = {"customer_id": customer_id, "preferences": dict(customer.preferences)}
    return Effect(result, [customer])


def record_interaction(customer_id: str | None, thread_id: str, kind: str, summary: str) -> Effect:
    interaction = Interaction(customer_id, thread_id, kind, summary[:SUMMARY_CHARS])
    return Effect({"recorded": kind}, interaction=interaction)


def subscribe_restock(customer_id: str, product_id: str, variant_id: str | None) -> Effect:
    """One subscription per customer, product and variant: subscribing again changes nothing."""
    result = {"customer_id": customer_id, "product_id": product_id, "variant_id": variant_id}
    return Effect(result, restock=(customer_id, product_id, variant_id or ""))
