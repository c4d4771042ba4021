"""Backend Protocols: what the graph needs from a shop's systems.

One SQLite implementation ships (backends/sqlite.py); a shop can plug in its own
(an HTTP client for its order system, say) by implementing these methods. Every write
takes an idempotency key: the same key never writes twice and returns the first result.
"""

from __future__ import annotations

from typing import Any, Protocol

from supportgraph.domain.schema import Address, Customer, Order, Product, Variant

WriteResult = dict[str, Any]


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
    """All three, as the demo SQLite store provides them."""


class WriteRefused(Exception):
    """The backend refused a write (ineligible order, out of stock, unknown variant...)."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason
