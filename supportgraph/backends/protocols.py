"""Backend Protocols: what the graph needs from a shop's systems.

Two implementations ship: SQLite (backends/sqlite.py, the default) and in-memory
(backends/memory.py); `backends/factory.py` picks one from settings. A shop can plug in its
own (an HTTP client for its order system, say) by implementing these methods, applying the
write rules of `supportgraph.domain.rules`, and passing tests/contract. Every write takes an
idempotency key: the same key never writes twice and returns the first result.

Some runtime features need more than the Protocol: replay forks and reruns copy the store as
it was at a moment (`copy_as_of`), privacy export/erase needs the `erase_customer` family.
Those are SQLite-only today; the runtime refuses them with a clear error on other backends.
"""

from __future__ import annotations

from typing import Any, Protocol

from supportgraph.domain.rules import WriteRefused, WriteResult
from supportgraph.domain.schema import Address, Customer, Order, Product, Store, Variant

__all__ = [
    "CrmBackend",
    "InventoryBackend",
    "ManagedStore",
    "OrderBackend",
    "StoreBackend",
    "WriteRefused",
    "WriteResult",
]


class CrmBackend(Protocol):
    async def find_customer_by_email(self, email: str) -> Customer | None: ...
    async def find_customer_by_name_zip(self, name: str, zip_code: str) -> Customer | None: ...
    async def get_customer(self, customer_id: str) -> Customer | None: ...
    async def update_customer_address(
        self, customer_id: str, address: Address, key: str
    ) -> WriteResult: ...
    async def update_preferences(
        self, customer_id: str, preferences: dict[str, str], key: str
    ) -> WriteResult: ...
    async def record_interaction(
        self, customer_id: str | None, thread_id: str, kind: str, summary: str, key: str
    ) -> WriteResult: ...


class OrderBackend(Protocol):
    async def get_order(self, order_id: str) -> Order | None: ...
    async def list_orders(self, customer_id: str) -> list[Order]: ...
    async def cancel_order(self, order_id: str, reason: str, key: str) -> WriteResult: ...
    async def modify_order_address(
        self, order_id: str, address: Address, key: str
    ) -> WriteResult: ...
    async def modify_order_item(
        self, order_id: str, item_index: int, variant_id: str, key: str
    ) -> WriteResult: ...
    async def modify_order_payment(
        self, order_id: str, method_id: str, key: str
    ) -> WriteResult: ...
    async def return_items(
        self, order_id: str, item_indexes: list[int], refund_method: str, key: str
    ) -> WriteResult: ...
    async def exchange_item(
        self, order_id: str, item_index: int, variant_id: str, key: str
    ) -> WriteResult: ...
    async def retry_payment(self, order_id: str, key: str) -> WriteResult: ...
    async def write_applied(self, key: str) -> bool:
        """True when a write under this idempotency key was already applied: calling it
        again returns the recorded result and changes nothing."""
        ...


class InventoryBackend(Protocol):
    async def get_product(self, product_id: str) -> Product | None: ...
    async def list_products(self) -> list[Product]: ...
    async def check_stock(
        self, product_id: str, options: dict[str, str]
    ) -> list[tuple[Variant, bool]]: ...
    async def subscribe_restock(
        self, customer_id: str, product_id: str, variant_id: str | None, key: str
    ) -> WriteResult: ...


class StoreBackend(CrmBackend, OrderBackend, InventoryBackend, Protocol):
    """All three, and the currency the shop prices in: what the graph needs."""

    def currency(self) -> str: ...


class ManagedStore(StoreBackend, Protocol):
    """A store the runtime opens (backends/factory.py): loaded from a store file, exported
    by `store export`, inspected by the eval runner and the tests, closed at exit."""

    def close(self) -> None: ...
    def is_empty(self) -> bool: ...
    def replace_all(self, store: Store) -> None: ...
    def export(self) -> Store: ...
    def all_products(self) -> list[Product]: ...
    def writes_log(self) -> list[dict[str, Any]]: ...
    def interactions(self, customer_id: str | None = None) -> list[dict[str, Any]]: ...
    def restock_subscriptions(self) -> list[tuple[str, str, str]]: ...
