"""An in-memory StoreBackend for unit tests: SqliteStore's semantics without a file.

Records are pydantic models kept in dicts. Everything handed out or taken in is a deep
copy, so a caller can never reach into the fake's state. Each write runs against a
snapshot that is restored when the write is refused (all of it or nothing, like the
SQLite transaction), and is recorded under its idempotency key: the same key returns the
first result with "replayed": True and never writes twice. Refusals raise the same
WriteRefused reasons and messages as SqliteStore; a refusal does not consume its key.

Helpers are imported from sqlite_store rather than copied, so the two cannot drift.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from supportgraph.backends.protocols import WriteRefused, WriteResult
from supportgraph.backends.sqlite import (
    _item,
    _now_iso,
    _total,
    canonical_order_ids,
    matching_variants,
    variant_in_stock,
)
from supportgraph.domain.schema import (
    Address,
    Customer,
    Order,
    Payment,
    Product,
    Store,
    Variant,
)
from supportgraph.nlu.text import normalize

M = TypeVar("M", bound=BaseModel)


def _copy(model: M) -> M:
    return model.model_copy(deep=True)


def _by_id(records: list[M], kind: str) -> dict[str, M]:
    out: dict[str, M] = {}
    for record in records:
        record_id = record.id  # type: ignore[attr-defined]
        if record_id in out:
            raise ValueError(f"duplicate {kind} id {record_id}")
        out[record_id] = _copy(record)
    return out


class InMemoryStore:
    """Implements StoreBackend (CRM, orders, inventory) over dicts of pydantic models."""

    def __init__(self, store: Store) -> None:
        self.name = store.name
        self._currency = store.currency
        self._customers: dict[str, Customer] = _by_id(store.customers, "customer")
        self._products: dict[str, Product] = _by_id(store.products, "product")
        self._orders: dict[str, Order] = _by_id(store.orders, "order")
        # key -> (action, target, result as JSON text): stored like the SQLite row, so a
        # replay or the log hands out a fresh, JSON-shaped copy every time.
        self._writes: dict[str, tuple[str, str, str]] = {}
        self._interactions: list[dict[str, Any]] = []
        self._restock: dict[tuple[str, str, str], None] = {}  # an ordered set

    # -- whole store ----------------------------------------------------------------------

    def export(self) -> Store:
        return Store(
            name=self.name,
            currency=self._currency,
            customers=[_copy(self._customers[k]) for k in sorted(self._customers)],
            products=[_copy(self._products[k]) for k in sorted(self._products)],
            orders=[_copy(self._orders[k]) for k in sorted(self._orders)],
        )

    def currency(self) -> str:
        return self._currency

    # -- CRM --------------------------------------------------------------------------------

    async def find_customer_by_email(self, email: str) -> Customer | None:
        wanted = email.strip().lower()
        for customer in self._customers.values():
            if ((customer.email or "").lower() or None) == wanted:
                return _copy(customer)
        return None

    async def find_customer_by_name_zip(self, name: str, zip_code: str) -> Customer | None:
        wanted_name, wanted_zip = normalize(name), zip_code.strip()
        for customer in self._customers.values():
            if normalize(customer.name) == wanted_name and _zip_of(customer) == wanted_zip:
                return _copy(customer)
        return None

    async def get_customer(self, customer_id: str) -> Customer | None:
        customer = self._customers.get(customer_id)
        return _copy(customer) if customer else None

    # -- orders -----------------------------------------------------------------------------

    async def get_order(self, order_id: str) -> Order | None:
        for candidate in canonical_order_ids(order_id):
            if candidate in self._orders:
                return _copy(self._orders[candidate])
        return None

    async def list_orders(self, customer_id: str) -> list[Order]:
        return [
            _copy(self._orders[k])
            for k in sorted(self._orders, reverse=True)
            if self._orders[k].customer_id == customer_id
        ]

    # -- inventory --------------------------------------------------------------------------

    async def get_product(self, product_id: str) -> Product | None:
        product = self._products.get(product_id)
        return _copy(product) if product else None

    async def list_products(self) -> list[Product]:
        return [_copy(self._products[k]) for k in sorted(self._products)]

    async def check_stock(
        self, product_id: str, options: dict[str, str]
    ) -> list[tuple[Variant, bool]]:
        """Variants matching the given options, each with whether it can be bought now."""
        product = await self.get_product(product_id)
        if product is None:
            return []
        return matching_variants(product, options)

    # -- writes -----------------------------------------------------------------------------

    def _write(
        self, key: str, action: str, target: str, change: Callable[[], WriteResult]
    ) -> WriteResult:
        if key in self._writes:
            if self._writes[key][:2] != (action, target):
                used = self._writes[key]
                raise WriteRefused("key_reused", f"key {key} was used for {used[0]} {used[1]}")
            return {**json.loads(self._writes[key][2]), "replayed": True}
        snapshot = (
            copy.deepcopy(self._customers),
            copy.deepcopy(self._products),
            copy.deepcopy(self._orders),
            list(self._interactions),
            dict(self._restock),
        )
        try:
            result = change()
            text = json.dumps(result)
        except BaseException:
            (
                self._customers,
                self._products,
                self._orders,
                self._interactions,
                self._restock,
            ) = snapshot
            raise
        self._writes[key] = (action, target, text)
        return json.loads(text)

    async def write_applied(self, key: str) -> bool:
        return key in self._writes

    def writes_log(self) -> list[dict[str, Any]]:
        return [
            {"key": k, "action": a, "target": t, "result": json.loads(r)}
            for k, (a, t, r) in self._writes.items()
        ]

    def interactions(self, customer_id: str | None = None) -> list[dict[str, Any]]:
        return [
            dict(i)
            for i in self._interactions
            if not customer_id or i["customer_id"] == customer_id
        ]

    def restock_subscriptions(self) -> list[tuple[str, str, str]]:
        return list(self._restock)

    # The *_for_update helpers hand out the stored record itself: changes made inside a
    # write are kept when it succeeds and rolled back from the snapshot when it is refused.

    def _order_for_update(self, order_id: str, allowed: tuple[str, ...]) -> Order:
        order = next(
            (self._orders[c] for c in canonical_order_ids(order_id) if c in self._orders), None
        )
        if order is None:
            raise WriteRefused("not_found", f"order {order_id} not found")
        if order.status not in allowed:
            raise WriteRefused("not_eligible", f"order {order_id} is {order.status}")
        return order

    def _product_for_update(self, product_id: str) -> Product:
        product = self._products.get(product_id)
        if product is None:
            raise WriteRefused("not_found", f"product {product_id} not found")
        return product

    def _customer_for_update(self, customer_id: str) -> Customer:
        customer = self._customers.get(customer_id)
        if customer is None:
            raise WriteRefused("not_found", f"customer {customer_id} not found")
        return customer

    def _move_stock(self, product_id: str, take: str, give_back: str | None) -> None:
        """Reserve one unit of variant `take` (refused when out of stock), release `give_back`."""
        product = self._product_for_update(product_id)
        variants = {v.id: v for v in product.variants}
        wanted = variants.get(take)
        if wanted is None:
            raise WriteRefused("unknown_variant", f"{take} is not a variant of {product_id}")
        if not variant_in_stock(wanted):
            raise WriteRefused("out_of_stock", f"{take} is out of stock")
        if wanted.stock is not None:
            wanted.stock -= 1
        if give_back and give_back in variants and variants[give_back].stock is not None:
            variants[give_back].stock = (variants[give_back].stock or 0) + 1

    async def cancel_order(self, order_id: str, reason: str, key: str) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("pending",))
            order.status = "cancelled"
            paid = sum(p.amount for p in order.payments if p.status in ("paid", "authorized"))
            if paid:
                order.payments.append(Payment(amount=-paid, status="refunded", at=_now_iso()))
            order.updated_at = _now_iso()
            setattr(order, "cancel_reason", reason)  # noqa: B010 - extra field of the open format
            return {"order_id": order.id, "status": "cancelled", "refund": round(paid, 2)}

        return self._write(key, "cancel_order", order_id, change)

    async def modify_order_address(self, order_id: str, address: Address, key: str) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("pending",))
            order.shipping_address = _copy(address)
            order.updated_at = _now_iso()
            return {"order_id": order.id, "shipping_address": address.model_dump(exclude_none=True)}

        return self._write(key, "modify_order_address", order_id, change)

    async def modify_order_item(
        self, order_id: str, item_index: int, variant_id: str, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("pending",))
            item = _item(order, item_index)
            self._move_stock(item.product_id, variant_id, item.variant_id)
            old = item.variant_id
            item.variant_id = variant_id
            order.updated_at = _now_iso()
            return {"order_id": order.id, "item_index": item_index, "from": old, "to": variant_id}

        return self._write(key, "modify_order_item", order_id, change)

    async def modify_order_payment(self, order_id: str, method_id: str, key: str) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("pending",))
            customer = self._customer_for_update(order.customer_id)
            if method_id not in {m.id for m in customer.payment_methods}:
                raise WriteRefused(
                    "unknown_method", f"{method_id} is not a payment method of the customer"
                )
            for payment in order.payments:
                if payment.status in ("pending", "failed", "authorized"):
                    payment.method_id = method_id
            if not order.payments:
                order.payments.append(
                    Payment(amount=_total(order), status="pending", method_id=method_id)
                )
            order.updated_at = _now_iso()
            return {"order_id": order.id, "method_id": method_id}

        return self._write(key, "modify_order_payment", order_id, change)

    async def return_items(
        self, order_id: str, item_indexes: list[int], refund_method: str, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("delivered",))
            if refund_method not in ("original", "store_credit"):
                raise WriteRefused("bad_refund_method", refund_method)
            if not item_indexes:
                raise WriteRefused("unknown_item", f"no items of order {order_id} to return")
            amount = 0.0
            for index in item_indexes:
                item = _item(order, index)
                if getattr(item, "returned", False):
                    raise WriteRefused("already_returned", f"item {index} was already returned")
                setattr(item, "returned", True)  # noqa: B010 - extra field of the open format
                amount += (item.price or 0.0) * item.quantity
            amount = round(amount, 2)
            if all(getattr(i, "returned", False) for i in order.items):
                order.status = "returned"
            if refund_method == "original":
                method = next((p.method_id for p in order.payments if p.status == "paid"), None)
                order.payments.append(
                    Payment(amount=-amount, status="refunded", method_id=method, at=_now_iso())
                )
            else:
                customer = self._customer_for_update(order.customer_id)
                credit = float(getattr(customer, "store_credit", 0.0) or 0.0) + amount
                setattr(customer, "store_credit", round(credit, 2))  # noqa: B010
            order.updated_at = _now_iso()
            return {
                "order_id": order.id,
                "items": list(item_indexes),
                "refund": amount,
                "refund_method": refund_method,
                "status": order.status,
            }

        return self._write(key, "return_items", order_id, change)

    async def exchange_item(
        self, order_id: str, item_index: int, variant_id: str, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("delivered",))
            item = _item(order, item_index)
            if getattr(item, "returned", False):
                raise WriteRefused("already_returned", f"item {item_index} was already returned")
            if item.variant_id == variant_id:
                raise WriteRefused("unknown_variant", f"item {item_index} already is {variant_id}")
            # The replacement ships from stock; the returned original goes back into stock.
            self._move_stock(item.product_id, variant_id, item.variant_id)
            previous = item.variant_id
            item.variant_id = variant_id
            exchanges = list(getattr(order, "exchanges", None) or [])
            exchanges.append(
                {"item_index": item_index, "from": previous, "to": variant_id, "at": _now_iso()}
            )
            setattr(order, "exchanges", exchanges)  # noqa: B010 - extra field of the open format
            order.updated_at = _now_iso()
            return {
                "order_id": order.id,
                "item_index": item_index,
                "from": previous,
                "to": variant_id,
            }

        return self._write(key, "exchange_item", order_id, change)

    async def retry_payment(self, order_id: str, key: str) -> WriteResult:
        def change() -> WriteResult:
            order = self._order_for_update(order_id, ("pending",))
            if not order.payments or order.payments[-1].status != "failed":
                raise WriteRefused("nothing_to_retry", f"order {order_id} has no failed payment")
            last = order.payments[-1]
            order.payments.append(
                Payment(
                    amount=last.amount, status="authorized", method_id=last.method_id, at=_now_iso()
                )
            )
            order.updated_at = _now_iso()
            return {"order_id": order.id, "payment_status": "authorized", "amount": last.amount}

        return self._write(key, "retry_payment", order_id, change)

    async def update_customer_address(
        self, customer_id: str, address: Address, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            customer = self._customer_for_update(customer_id)
            customer.address = _copy(address)
            if address.zip:
                customer.zip = address.zip
            return {"customer_id": customer_id, "address": address.model_dump(exclude_none=True)}

        return self._write(key, "update_customer_address", customer_id, change)

    async def update_preferences(
        self, customer_id: str, preferences: dict[str, str], key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            customer = self._customer_for_update(customer_id)
            customer.preferences = copy.deepcopy({**customer.preferences, **preferences})
            return {"customer_id": customer_id, "preferences": customer.preferences}

        return self._write(key, "update_preferences", customer_id, change)

    async def record_interaction(
        self, customer_id: str | None, thread_id: str, kind: str, summary: str, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            self._interactions.append(
                {
                    "customer_id": customer_id,
                    "thread_id": thread_id,
                    "kind": kind,
                    "summary": summary[:2000],
                }
            )
            return {"recorded": kind}

        return self._write(key, "record_interaction", thread_id, change)

    async def subscribe_restock(
        self, customer_id: str, product_id: str, variant_id: str | None, key: str
    ) -> WriteResult:
        def change() -> WriteResult:
            self._restock.setdefault((customer_id, product_id, variant_id or ""), None)
            return {"customer_id": customer_id, "product_id": product_id, "variant_id": variant_id}

        return self._write(key, "subscribe_restock", product_id, change)


def _zip_of(customer: Customer) -> str | None:
    """The zip SqliteStore indexes a customer under: its own, else its address's."""
    return customer.zip or (customer.address.zip if customer.address else None)
