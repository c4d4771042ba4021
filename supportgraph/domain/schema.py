"""The store format (docs/architecture.md, Contracts): what `supportgraph store load` accepts.

Ids are strings. Optional fields stay optional: a real shop's export lacks some of them,
and every consumer must cope with None.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

STORE_SCHEMA_VERSION = 1

OrderStatus = Literal["pending", "processed", "shipped", "delivered", "cancelled", "returned"]
Segment = Literal["vip", "regular", "new", "at_risk"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Address(_Model):
    line1: str
    line2: str | None = None
    city: str
    zip: str | None = None
    country: str | None = None


class PaymentMethod(_Model):
    id: str
    kind: str  # card, paypal, klarna, gift_card, apple_pay, ...
    label: str | None = None  # shown to the customer, e.g. "Visa ending 4242"


class Customer(_Model):
    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    zip: str | None = None
    address: Address | None = None
    segment: Segment | None = None
    preferences: dict[str, Any] = Field(default_factory=dict)
    payment_methods: list[PaymentMethod] = Field(default_factory=list)


class Variant(_Model):
    id: str
    options: dict[str, str] = Field(default_factory=dict)  # open set: size, colour, material, ...
    price: float | None = None
    stock: int | None = None  # None: the shop does not share counts
    available: bool | None = None  # used when stock is None


class Product(_Model):
    id: str
    name: str
    type: str | None = None
    description: str | None = None
    price: float | None = None  # default for variants without their own price
    variants: list[Variant] = Field(default_factory=list)


class OrderItem(_Model):
    product_id: str
    variant_id: str | None = None
    quantity: int = 1
    price: float | None = None
    name: str | None = None


class Payment(_Model):
    amount: float
    status: Literal["authorized", "paid", "failed", "pending", "refunded"] = "paid"
    method_id: str | None = None
    at: str | None = None


class Fulfilment(_Model):
    tracking_number: str | None = None
    carrier: str | None = None
    eta: str | None = None  # ISO date
    shipped_at: str | None = None
    delivered_at: str | None = None


class Order(_Model):
    id: str
    customer_id: str
    status: OrderStatus
    items: list[OrderItem] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)
    shipping_address: Address | None = None
    fulfilments: list[Fulfilment] = Field(default_factory=list)
    created_at: str | None = None  # ISO datetime
    updated_at: str | None = None
    currency: str | None = None


class Store(_Model):
    schema_version: int = STORE_SCHEMA_VERSION
    name: str | None = None
    currency: str = "EUR"
    customers: list[Customer] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)
    orders: list[Order] = Field(default_factory=list)
