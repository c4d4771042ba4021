"""What every store built on the domain rules shares: the write methods of StoreBackend.

Each write asks its rule in `supportgraph.domain.rules` for the effect and hands it to the
backend's `_apply`, which owns the rest: the transaction, the idempotency log (the same key
never writes twice and returns the first result) and storing the effect. A backend provides
`_apply` and the three record readers the rules use (copies they may change).

A backend whose calls block (a database driver: `blocking_io = True`) runs them through `_io`,
in a worker thread: nodes are async, and a blocking call on the event loop stalls every other
conversation of the process (LangGraph's own server refuses such calls outright).
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, ParamSpec, TypeVar

from supportgraph.backends.protocols import WriteResult
from supportgraph.domain import rules
from supportgraph.domain.catalogue import matching_variants
from supportgraph.domain.rules import Effect
from supportgraph.domain.schema import Address, Customer, Order, Product, Variant

P = ParamSpec("P")
T = TypeVar("T")


class RuleStore(ABC):
    blocking_io: ClassVar[bool] = False  # True: its record readers and _apply do I/O

    async def _io(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`call(*args)`, in a worker thread when this backend's calls block."""
        if self.blocking_io:
            return await asyncio.to_thread(call, *args, **kwargs)
        return call(*args, **kwargs)

    @abstractmethod
    def order(self, order_id: str) -> Order | None: ...
    @abstractmethod
    def product(self, product_id: str) -> Product | None: ...
    @abstractmethod
    def customer(self, customer_id: str) -> Customer | None: ...
    @abstractmethod
    def _apply(self, key: str, action: str, target: str, rule: Callable[[], Effect]) -> WriteResult:
        """Run `rule` and store its effect under idempotency key `key`, all or nothing."""

    # -- reads --------------------------------------------------------------------------------

    async def get_customer(self, customer_id: str) -> Customer | None:
        return await self._io(self.customer, customer_id)

    async def get_order(self, order_id: str) -> Order | None:
        return await self._io(self.order, order_id)

    async def get_product(self, product_id: str) -> Product | None:
        return await self._io(self.product, product_id)

    async def check_stock(
        self, product_id: str, options: dict[str, str]
    ) -> list[tuple[Variant, bool]]:
        """Variants matching the given options, each with whether it can be bought now."""
        product = await self._io(self.product, product_id)
        return [] if product is None else matching_variants(product, options)

    # -- writes -------------------------------------------------------------------------------

    async def cancel_order(self, order_id: str, reason: str, key: str) -> WriteResult:
        return await self._io(
            self._apply,
            key,
            "cancel_order",
            order_id,
            lambda: rules.cancel_order(self, order_id, reason, _now()),
        )

    async def modify_order_address(self, order_id: str, address: Address, key: str) -> WriteResult:
        def rule() -> Effect:
            return rules.modify_order_address(self, order_id, address, _now())

        return await self._io(self._apply, key, "modify_order_address", order_id, rule)

    async def modify_order_item(
        self, order_id: str, item_index: int, variant_id: str, key: str
    ) -> WriteResult:
        def rule() -> Effect:
            return rules.modify_order_item(self, order_id, item_index, variant_id, _now())

        return await self._io(self._apply, key, "modify_order_item", order_id, rule)

    async def modify_order_payment(self, order_id: str, method_id: str, key: str) -> WriteResult:
        def rule() -> Effect:
            return rules.modify_order_payment(self, order_id, method_id, _now())

        return await self._io(self._apply, key, "modify_order_payment", order_id, rule)

    async def return_items(
        self, order_id: str, item_indexes: list[int], refund_method: str, key: str
    ) -> WriteResult:
        def rule() -> Effect:
            return rules.return_items(self, order_id, item_indexes, refund_method, _now())

        return await self._io(self._apply, key, "return_items", order_id, rule)

    async def exchange_item(
        self, order_id: str, item_index: int, variant_id: str, key: str
    ) -> WriteResult:
        def rule() -> Effect:
            return rules.exchange_item(self, order_id, item_index, variant_id, _now())

        return await self._io(self._apply, key, "exchange_item", order_id, rule)

    async def retry_payment(self, order_id: str, key: str) -> WriteResult:
        return await self._io(
            self._apply,
            key,
            "retry_payment",
            order_id,
            lambda: rules.retry_payment(self, order_id, _now()),
        )

    async def update_customer_address(
        self, customer_id: str, address: Address, key: str
    ) -> WriteResult:
        def rule() -> Effect:
            return rules.update_customer_address(self, customer_id, address)

        return await self._io(self._apply, key, "update_customer_address", customer_id, rule)

    async def update_preferences(
        self, customer_id: str, preferences: dict[str, str], key: str
    ) -> WriteResult:
        def rule() -> Effect:
            return rules.update_preferences(self, customer_id, preferences)

        return await self._io(self._apply, key, "update_preferences", customer_id, rule)

    async def record_interaction(
        self, customer_id: str | None, thread_id: str, kind: str, summary: str, key: str
    ) -> WriteResult:
        def rule() -> Effect:
            return rules.record_interaction(customer_id, thread_id, kind, summary)

        return await self._io(self._apply, key, "record_interaction", thread_id, rule)

    async def subscribe_restock(
        self, customer_id: str, product_id: str, variant_id: str | None, key: str
    ) -> WriteResult:
        def rule() -> Effect:
            return rules.subscribe_restock(customer_id, product_id, variant_id)

        return await self._io(self._apply, key, "subscribe_restock", product_id, rule)


def _now() -> str:
    """When a write happened, as the store's documents spell it (UTC, second precision)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
