"""The LangChain tools over the backends: StructuredTools with pydantic argument schemas.

The offline flows call these same tools (through the policy guard), so the LLM mode can
bind exactly what the offline graph uses. Results are JSON-able dicts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from supportgraph.backends.protocols import StoreBackend
from supportgraph.domain.catalogue import in_stock, same_option
from supportgraph.domain.schema import Address
from supportgraph.domain.shipping import FREE_SHIPPING_FROM, estimate


class EmailArgs(BaseModel):
    email: str = Field(description="The customer's email address")


class NameZipArgs(BaseModel):
    name: str = Field(description="Full name")
    zip: str = Field(description="Zip / postal code")


class CustomerArgs(BaseModel):
    customer_id: str


class OrderArgs(BaseModel):
    order_id: str


class EstimateArgs(BaseModel):
    country: str | None = Field(None, description="ISO country code, default DE")
    method: Literal["standard", "express"] = "standard"
    order_id: str | None = None


class StockArgs(BaseModel):
    product_id: str
    size: str | None = None
    colour: str | None = None
    # Any other option of the shop's catalogue, by its own key: {"material": "Walnut"}.
    options: dict[str, str] | None = None


class RestockArgs(BaseModel):
    customer_id: str
    product_id: str
    variant_id: str | None = None


class ProductArgs(BaseModel):
    product_id: str


class NoArgs(BaseModel):
    pass


class SearchArgs(BaseModel):
    product_type: str | None = Field(None, description="e.g. sneakers, boots, sweater")
    text: str | None = Field(None, description="Words of the product name")


class Keyed(BaseModel):
    key: str = Field(description="Idempotency key chosen when the change was proposed")


class CancelArgs(Keyed):
    order_id: str
    reason: str = "customer request"


class OrderAddressArgs(Keyed):
    order_id: str
    address: Address


class OrderItemArgs(Keyed):
    order_id: str
    item_index: int = Field(description="0-based index of the item in the order")
    variant_id: str = Field(description="Another variant of the same product")


class OrderPaymentArgs(Keyed):
    order_id: str
    method_id: str


class CustomerAddressArgs(Keyed):
    customer_id: str
    address: Address


class ReturnArgs(Keyed):
    order_id: str
    item_indexes: list[int]
    refund_method: Literal["original", "store_credit"] = "original"


class RetryArgs(Keyed):
    order_id: str


class PreferencesArgs(Keyed):
    customer_id: str
    language: str | None = None
    contact_channel: Literal["email", "phone", "sms", "chat"] | None = None


class InteractionArgs(BaseModel):
    customer_id: str | None = None
    thread_id: str
    kind: str
    summary: str
    key: str


class TransferArgs(BaseModel):
    thread_id: str
    summary: str
    priority: str | None = None
    key: str


def _dump(model: Any) -> Any:
    return model.model_dump(exclude_none=True) if model is not None else None


def build_tools(store: StoreBackend, clock: Any) -> dict[str, BaseTool]:
    """Every tool by name. `clock()` gives the current time (injectable for tests)."""

    async def find_customer_by_email(email: str) -> Any:
        return _dump(await store.find_customer_by_email(email))

    async def find_customer_by_name_zip(name: str, zip: str) -> Any:
        return _dump(await store.find_customer_by_name_zip(name, zip))

    async def get_customer_profile(customer_id: str) -> Any:
        return _dump(await store.get_customer(customer_id))

    async def get_order_details(order_id: str) -> Any:
        return _dump(await store.get_order(order_id))

    async def list_customer_orders(customer_id: str) -> Any:
        return [
            {
                "id": o.id,
                "status": o.status,
                "created_at": o.created_at,
                "items": [i.name or i.product_id for i in o.items],
            }
            for o in await store.list_orders(customer_id)
        ]

    async def track_shipment(order_id: str) -> Any:
        order = await store.get_order(order_id)
        if order is None:
            return None
        last = order.fulfilments[-1] if order.fulfilments else None
        return {"order_id": order.id, "status": order.status, **(_dump(last) or {})}

    async def estimate_delivery(
        country: str | None = None, method: str = "standard", order_id: str | None = None
    ) -> Any:
        now = dt.datetime.fromtimestamp(clock(), dt.UTC)
        if order_id:
            order = await store.get_order(order_id)
            if order and order.shipping_address:
                country = order.shipping_address.country
        result = estimate(country, method, now)
        if result is None:
            return {"deliverable": False, "country": country, "method": method}
        first, last, option = result
        return {
            "deliverable": True,
            "country": country or "DE",
            "method": method,
            "earliest": first.isoformat(),
            "latest": last.isoformat(),
            "price": option.price,
            "free_from": FREE_SHIPPING_FROM,
        }

    async def check_stock(
        product_id: str,
        size: str | None = None,
        colour: str | None = None,
        options: dict[str, str] | None = None,
    ) -> Any:
        options = {
            **{k: v for k, v in (("size", size), ("colour", colour)) if v},
            **(options or {}),
        }
        matches = await store.check_stock(product_id, options)
        return [
            {
                "variant_id": v.id,
                "options": v.options,
                "in_stock": ok,
                "stock": v.stock,
                "price": v.price,
            }
            for v, ok in matches
        ]

    async def suggest_alternatives(
        product_id: str,
        size: str | None = None,
        colour: str | None = None,
        options: dict[str, str] | None = None,
    ) -> Any:
        product = await store.get_product(product_id)
        if product is None:
            return []
        wanted = {
            **{k: v for k, v in (("size", size), ("colour", colour)) if v},
            **(options or {}),
        }
        same: list[dict[str, Any]] = []
        for v in product.variants:
            keeps = [
                k
                for k, val in wanted.items()
                if val and k in v.options and same_option(v.options[k], val)
            ]
            if in_stock(v) and keeps:
                same.append(
                    {
                        "product_id": product.id,
                        "name": product.name,
                        "variant_id": v.id,
                        "options": v.options,
                    }
                )
        others = []
        for p in await store.list_products():
            if p.id != product.id and p.type == product.type:
                for v in p.variants:
                    if in_stock(v) and (
                        not size or ("size" in v.options and same_option(v.options["size"], size))
                    ):
                        others.append(
                            {
                                "product_id": p.id,
                                "name": p.name,
                                "variant_id": v.id,
                                "options": v.options,
                            }
                        )
                        break
        if not same:  # nothing shares an option: any variant of this product that is in stock
            same = [
                {
                    "product_id": product.id,
                    "name": product.name,
                    "variant_id": v.id,
                    "options": v.options,
                }
                for v in product.variants
                if in_stock(v)
            ]
        # Same size in another colour first: the customer's size is the harder constraint.
        same.sort(key=lambda a: not size or not same_option(a["options"].get("size", ""), size))
        return same[:4] + others[:3]

    async def subscribe_restock(
        customer_id: str, product_id: str, variant_id: str | None = None
    ) -> Any:
        key = f"restock:{customer_id}:{product_id}:{variant_id}"
        return await store.subscribe_restock(customer_id, product_id, variant_id, key)

    async def get_product_details(product_id: str) -> Any:
        return _dump(await store.get_product(product_id))

    async def search_products(product_type: str | None = None, text: str | None = None) -> Any:
        words = (text or "").lower().split()
        return [
            _dump(p)
            for p in await store.list_products()
            if (not product_type or (p.type or "").lower() == product_type.lower())
            and all(w in p.name.lower() for w in words)
        ]

    async def list_product_types() -> Any:
        types: dict[str, int] = {}
        for p in await store.list_products():
            if p.type:
                types[p.type] = types.get(p.type, 0) + 1
        return types

    async def cancel_order(order_id: str, reason: str, key: str) -> Any:
        return await store.cancel_order(order_id, reason, key)

    async def modify_order_address(order_id: str, address: Address, key: str) -> Any:
        return await store.modify_order_address(order_id, Address.model_validate(address), key)

    async def modify_order_items(order_id: str, item_index: int, variant_id: str, key: str) -> Any:
        return await store.modify_order_item(order_id, item_index, variant_id, key)

    async def modify_order_payment(order_id: str, method_id: str, key: str) -> Any:
        return await store.modify_order_payment(order_id, method_id, key)

    async def modify_customer_address(customer_id: str, address: Address, key: str) -> Any:
        return await store.update_customer_address(
            customer_id, Address.model_validate(address), key
        )

    async def return_items(
        order_id: str, item_indexes: list[int], refund_method: str, key: str
    ) -> Any:
        return await store.return_items(order_id, item_indexes, refund_method, key)

    async def exchange_items(order_id: str, item_index: int, variant_id: str, key: str) -> Any:
        return await store.exchange_item(order_id, item_index, variant_id, key)

    async def payment_status(order_id: str) -> Any:
        order = await store.get_order(order_id)
        if order is None:
            return None
        last = order.payments[-1] if order.payments else None
        return {
            "order_id": order.id,
            "status": last.status if last else "none",
            "amount": last.amount if last else None,
            "method_id": last.method_id if last else None,
        }

    async def retry_payment(order_id: str, key: str) -> Any:
        return await store.retry_payment(order_id, key)

    async def update_preferences(
        customer_id: str, key: str, language: str | None = None, contact_channel: str | None = None
    ) -> Any:
        prefs = {
            k: v for k, v in (("language", language), ("contact_channel", contact_channel)) if v
        }
        return await store.update_preferences(customer_id, prefs, key)

    async def record_interaction(
        thread_id: str, kind: str, summary: str, key: str, customer_id: str | None = None
    ) -> Any:
        return await store.record_interaction(customer_id, thread_id, kind, summary, key)

    async def transfer_to_human(
        thread_id: str, summary: str, key: str, priority: str | None = None
    ) -> Any:
        await store.record_interaction(
            None, thread_id, "transfer_to_human", f"[{priority or 'medium'}] {summary}", key
        )
        return {"transferred": True, "priority": priority or "medium"}

    specs: list[tuple[Any, type[BaseModel], str]] = [
        (find_customer_by_email, EmailArgs, "Find a customer by email (identity check)."),
        (find_customer_by_name_zip, NameZipArgs, "Find a customer by full name and zip code."),
        (get_customer_profile, CustomerArgs, "The verified customer's profile."),
        (get_order_details, OrderArgs, "Details of one order."),
        (list_customer_orders, CustomerArgs, "The verified customer's orders, newest first."),
        (track_shipment, OrderArgs, "Carrier, tracking number and ETA of an order."),
        (
            estimate_delivery,
            EstimateArgs,
            "Delivery date range for a country and method, or an order.",
        ),
        (check_stock, StockArgs, "Stock of a product's variants by size and colour."),
        (suggest_alternatives, StockArgs, "In-stock alternatives for an unavailable variant."),
        (subscribe_restock, RestockArgs, "Notify the customer when a variant is back in stock."),
        (get_product_details, ProductArgs, "A product with its variants and prices."),
        (search_products, SearchArgs, "Products of a type and/or whose name has these words."),
        (list_product_types, NoArgs, "Product types with how many products each."),
        (payment_status, OrderArgs, "Status of the latest payment of an order."),
        (record_interaction, InteractionArgs, "Record what happened in the CRM."),
        (transfer_to_human, TransferArgs, "Hand the conversation to a human agent with a summary."),
    ]
    write_specs: list[tuple[Any, type[BaseModel], str]] = [
        (cancel_order, CancelArgs, "Cancel a pending order."),
        (modify_order_address, OrderAddressArgs, "Change the shipping address of a pending order."),
        (
            modify_order_items,
            OrderItemArgs,
            "Change an item of a pending order to another variant.",
        ),
        (modify_order_payment, OrderPaymentArgs, "Change the payment method of a pending order."),
        (modify_customer_address, CustomerAddressArgs, "Change the customer's default address."),
        (return_items, ReturnArgs, "Return delivered items for a refund."),
        (exchange_items, OrderItemArgs, "Exchange a delivered item for another variant in stock."),
        (retry_payment, RetryArgs, "Retry the failed payment of a pending order."),
        (update_preferences, PreferencesArgs, "Update language or contact channel preferences."),
    ]
    tools: dict[str, BaseTool] = {}
    for fn, schema, description in specs + write_specs:
        tools[fn.__name__] = StructuredTool.from_function(
            coroutine=fn, name=fn.__name__, description=description, args_schema=schema
        )
    return tools
