"""The in-memory store: SqliteStore's behaviour without a file, on the same write rules.

For tests and quick experiments (`SUPPORTGRAPH_STORE_BACKEND=memory`): records are pydantic
models kept in dicts, and everything handed out or taken in is a deep copy, so a caller can
never reach into the store's state. A write asks its rule (`supportgraph.domain.rules`) for
the effect, on copies, and only then stores it: a refused write changes nothing, like the
SQLite transaction. Every write is logged under its idempotency key: the same key returns
the first result with "replayed": True and never writes twice; a refusal does not use up its
key. Nothing survives the process, so there is no undo log: replay forks/reruns and privacy
export/erase need the SQLite store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from supportgraph.backends.base import RuleStore
from supportgraph.backends.protocols import WriteResult
from supportgraph.domain import rules
from supportgraph.domain.lookup import email_key, name_key, postcode_key, reference_key, zip_of
from supportgraph.domain.rules import Effect
from supportgraph.domain.schema import Customer, Order, Product, Store

M = TypeVar("M", bound=BaseModel)


def _copy(model: M) -> M:
    # Through pydantic-core rather than copy.deepcopy: 3x faster, the same independent copy
    # (records are plain data; their validators accept what they dump).
    return type(model).model_validate(model.model_dump())


def _by_id(records: list[M], kind: str) -> dict[str, M]:
    out: dict[str, M] = {}
    for record in records:
        record_id = record.id  # type: ignore[attr-defined]
        if record_id in out:
            raise ValueError(f"duplicate {kind} id {record_id}")
        out[record_id] = _copy(record)
    return out


class InMemoryStore(RuleStore):
    """Implements StoreBackend (CRM, orders, inventory) over dicts of pydantic models."""

    def __init__(self, store: Store | None = None) -> None:
        self.replace_all(store or Store())

    # -- whole store ----------------------------------------------------------------------

    def replace_all(self, store: Store) -> None:
        """Load a validated store; like SqliteStore's, it forgets old keys and CRM rows."""
        customers = _by_id(store.customers, "customer")
        products = _by_id(store.products, "product")
        orders = _by_id(store.orders, "order")
        self.name = store.name
        self._currency = store.currency
        self._customers, self._products, self._orders = customers, products, orders
        # reference key -> the order id as the store spells it (first one wins on a clash)
        self._order_keys: dict[str, str] = {}
        for order_id in orders:
            self._order_keys.setdefault(reference_key(order_id), order_id)
        # key -> (action, target, result as JSON text): stored like the SQLite row, so a
        # replay or the log hands out a fresh, JSON-shaped copy every time.
        self._writes: dict[str, tuple[str, str, str]] = {}
        self._interactions: list[dict[str, Any]] = []
        self._restock: dict[tuple[str, str, str], None] = {}  # an ordered set

    def is_empty(self) -> bool:
        return not self._customers and not self._products

    def close(self) -> None:
        """Nothing to release (the SQLite store closes its file)."""

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

    # -- records, as the write rules read them: copies they may change --------------------

    def order(self, order_id: str) -> Order | None:
        found = (
            order_id if order_id in self._orders else self._order_keys.get(reference_key(order_id))
        )
        return _copy(self._orders[found]) if found else None

    def product(self, product_id: str) -> Product | None:
        product = self._products.get(product_id)
        return _copy(product) if product else None

    def customer(self, customer_id: str) -> Customer | None:
        customer = self._customers.get(customer_id)
        return _copy(customer) if customer else None

    # -- CRM --------------------------------------------------------------------------------

    async def find_customer_by_email(self, email: str) -> Customer | None:
        wanted = email_key(email.strip())
        if wanted is None:
            return None
        found = next((c for c in self._customers.values() if email_key(c.email) == wanted), None)
        return _copy(found) if found else None

    async def find_customer_by_name_zip(self, name: str, zip_code: str) -> Customer | None:
        wanted_name, wanted_zip = name_key(name), postcode_key(zip_code)
        for customer in self._customers.values():
            if (
                name_key(customer.name) == wanted_name
                and postcode_key(zip_of(customer)) == wanted_zip
            ):
                return _copy(customer)
        return None

    # -- orders -----------------------------------------------------------------------------

    async def list_orders(self, customer_id: str) -> list[Order]:
        return [
            _copy(self._orders[k])
            for k in sorted(self._orders, reverse=True)
            if self._orders[k].customer_id == customer_id
        ]

    # -- inventory --------------------------------------------------------------------------

    async def list_products(self) -> list[Product]:
        return self.all_products()

    def all_products(self) -> list[Product]:
        return [_copy(self._products[k]) for k in sorted(self._products)]

    # -- writes -----------------------------------------------------------------------------

    def _apply(self, key: str, action: str, target: str, rule: Callable[[], Effect]) -> WriteResult:
        logged = self._writes.get(key)
        if logged is not None:
            return rules.replayed(
                key, action, target, (logged[0], logged[1], json.loads(logged[2]))
            )
        effect = rule()  # raises WriteRefused before anything is stored
        text = json.dumps(effect.result)
        for record in effect.saved:
            if isinstance(record, Order):
                self._orders[record.id] = _copy(record)
            elif isinstance(record, Product):
                self._products[record.id] = _copy(record)
            else:
                self._customers[record.id] = _copy(record)
        if effect.interaction is not None:
            self._interactions.append(vars(effect.interaction).copy())
        if effect.restock is not None:
            self._restock.setdefault(effect.restock, None)
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
