"""Backend Protocols: what the graph needs from a shop's systems.

One SQLite implementation ships (tools/sqlite_store.py); a shop can plug in its own
(an HTTP client for its order system, say) by implementing these methods.
"""

from __future__ import annotations

from typing import Protocol

from supportgraph.tools.schema import Customer, Order, Product, Variant


class CrmBackend(Protocol):
    async def find_customer_by_email(self, email: str) -> Customer | None: ...
    async def find_customer_by_name_zip(self, name: str, zip_code: str) -> Customer | None: ...
    async def get_customer(self, customer_id: str) -> Customer | None: ...


class OrderBackend(Protocol):
    async def get_order(self, order_id: str) -> Order | None: ...
    async def list_orders(self, customer_id: str) -> list[Order]: ...


class InventoryBackend(Protocol):
    async def get_product(self, product_id: str) -> Product | None: ...
    async def list_products(self) -> list[Product]: ...
    async def check_stock(
        self, product_id: str, options: dict[str, str]
    ) -> list[tuple[Variant, bool]]: ...


class StoreBackend(CrmBackend, OrderBackend, InventoryBackend, Protocol):
    """All three, as the demo SQLite store provides them."""
