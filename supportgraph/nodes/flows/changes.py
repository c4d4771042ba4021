"""Writes: propose the exact change, wait for an explicit yes, then execute once.

A proposal stores the tool call (with its idempotency key) in `pending_action` and asks for
confirmation; the next message settles it: a clear yes runs exactly that call through the
policy guard, anything else cancels it. Eligibility is checked when proposing (to explain a
refusal) and again by the guard and the backend when writing.
"""

from __future__ import annotations

from typing import Any

from supportgraph.domain.catalogue import find_variant, order_total
from supportgraph.domain.policy import eligibility
from supportgraph.domain.schema import Address, Customer, Order, Product
from supportgraph.nlu.requests import kinds, parse_address
from supportgraph.nodes.flows.base import FlowContext, Refused
from supportgraph.nodes.flows.display import (
    customer_country,
    money,
    payment_method,
    preferences,
    say_value,
    variant_label,
)
from supportgraph.nodes.flows.identity import ensure_identity
from supportgraph.nodes.flows.orders import load_own_order
from supportgraph.nodes.flows.products import load_product
from supportgraph.nodes.flows.registry import handles

REFUSAL_KEYS = {
    "not_eligible": "refuse_not_eligible",
    "return_window_passed": "refuse_return_window",
    "return_window_passed_ordered": "refuse_return_window_ordered",
    "no_delivery_date": "refuse_no_delivery_date",
    "out_of_stock": "refuse_out_of_stock",
    "unknown_variant": "refuse_unknown_variant",
    "nothing_to_retry": "refuse_nothing_to_retry",
    "already_returned": "refuse_already_returned",
}


def propose(
    ctx: FlowContext,
    tool: str,
    args: dict[str, Any],
    key: str,
    flow: str,
    done: str | None = None,
    **params: Any,
) -> None:
    """State the exact change and wait for a yes in the next message."""
    call_args = {**args, "key": f"{ctx.thread_id}:{ctx.turn}:{tool}"}
    ctx.update["pending_action"] = {
        "tool": tool,
        "args": call_args,
        "done": done or f"done.{tool}",
        "params": params,
        "flow": flow,
    }
    ctx.ask(key, "confirmation", flow, **params)
    ctx.say("ask_confirmation")


async def settle_pending(ctx: FlowContext) -> bool:
    """Handle the answer to a proposal. True when this turn is fully answered by it."""
    pending = ctx.state.pending_action
    if not pending or ctx.state.awaiting != "confirmation":
        return False
    ctx.update["pending_action"] = None
    ctx.done()
    confirmed = ctx.state.entities.get("confirmed")
    if confirmed is not True:
        if not pending.get("offer"):  # a declined offer needs no "nothing changed"
            ctx.say("action_cancelled")
        return confirmed is False  # anything else than yes/no is also a new request
    tool = pending["tool"]
    if tool == "subscribe_restock":
        from supportgraph.nodes.flows.products import restock

        await restock(ctx)
        return True
    try:
        result = await ctx.call_tool(tool, pending["args"], _summary, confirmed=pending)
    except Refused as exc:
        # The order may have changed since the proposal (shipped meanwhile): say its status.
        params = dict(pending["params"])
        order = await ctx.deps.store.get_order(str(pending["args"].get("order_id", "")))
        if order is not None:
            params.setdefault(
                "status", ctx.deps.templates.render(f"status.{order.status}", ctx.language)
            )
        params.setdefault("days", ctx.deps.settings.return_window_days)
        ctx.say(REFUSAL_KEYS.get(exc.reason, "refuse_generic"), **params)
        return True
    done = pending["done"]
    if done == "done.cancel_order" and isinstance(result, dict) and not result.get("refund"):
        # No payment was taken (it failed, or the shop never charged): never "€0.00 will be
        # refunded".
        done = "done.cancel_order_unpaid"
    params = await _result_params(ctx, result, str(pending["args"].get("order_id", "")))
    ctx.say(done, **{**pending["params"], **params})
    await ctx.call_tool(
        "record_interaction",
        {
            "customer_id": ctx.customer_id,
            "thread_id": ctx.thread_id,
            "kind": tool,
            "summary": f"{tool} {pending['args']} -> {_summary(result)}",
            "key": pending["args"]["key"] + ":log",
        },
    )
    return True


def _summary(result: Any) -> str:
    if isinstance(result, dict):
        return ", ".join(f"{k}={v}" for k, v in result.items() if k != "shipping_address")[:200]
    return str(result)[:200]


async def _result_params(ctx: FlowContext, result: Any, order_id: str) -> dict[str, Any]:
    """The written amount of a refund, in the customer's locale and the order's currency."""
    if isinstance(result, dict) and "refund" in result:
        order = await ctx.deps.store.get_order(order_id) if order_id else None
        country = await customer_country(ctx, order)
        currency = order.currency if order is not None else None
        return {"refund": money(ctx, result["refund"], country, currency)}
    return {}


def refuse(ctx: FlowContext, reason: str, **params: Any) -> None:
    ctx.say(REFUSAL_KEYS.get(reason, "refuse_generic"), **params)
    ctx.done()


def check_eligible(ctx: FlowContext, tool: str, order: Order) -> bool:
    refusal = eligibility(tool, order, ctx.today(), ctx.deps.settings.return_window())
    if refusal is None:
        return True
    reason = refusal.reason
    if reason == "return_window_passed" and refusal.detail.startswith("ordered"):
        reason = "return_window_passed_ordered"  # counted from the order date: say so
    refuse(
        ctx,
        reason,
        order_id=order.id,
        status=ctx.deps.templates.render(f"status.{order.status}", ctx.language),
        days=ctx.deps.settings.return_window_days,
    )
    return False


def address_text(address: dict[str, str]) -> str:
    return ", ".join(
        x
        for x in (
            address.get("line1"),
            f"{address.get('zip', '')} {address.get('city', '')}".strip(),
        )
        if x
    )


def remember_address(ctx: FlowContext) -> bool:
    """Keep an address written in this message, even if identity must be checked first."""
    found = parse_address(ctx.text)
    if found:
        ctx.slots["address"] = found
    return found is not None


def _address_from_slots(ctx: FlowContext, flow: str) -> dict[str, str] | None:
    address = ctx.slots.get("address")
    if not address:
        ctx.ask("ask_address", "address", flow)
        return None
    return dict(address)


def _item_index(order: Order, product_id: str | None) -> int:
    for i, item in enumerate(order.items):
        if product_id and item.product_id == product_id and not getattr(item, "returned", False):
            return i
    return next((i for i, it in enumerate(order.items) if not getattr(it, "returned", False)), 0)


def _find_variant(product: Product, current_variant: str | None, wanted: dict[str, str]) -> Any:
    """The variant of `product` with the wanted options, keeping the current one's others."""
    current = next((v for v in product.variants if v.id == current_variant), None)
    target = dict(current.options) if current else {}
    target.update(wanted)
    return find_variant(product, target)


@handles("order_modification")
async def order_modification(ctx: FlowContext) -> None:
    flow = "order_modification"
    has_address = remember_address(ctx)
    asked = kinds(ctx.text) | set(ctx.slots.get("change_kinds", []))
    entities = ctx.state.entities
    if {"exchange", "return"} & asked and not {"cancel", "address", "payment_method"} & asked:
        # "exchange the sneakers of order X for a 44" is an after-delivery change.
        if await returns_refunds(ctx):
            return
    if "cancel" in asked:
        kind = "cancel"
    elif "address" in asked or has_address or ctx.state.awaiting == "address":
        kind = "address"
    elif "payment_method" in asked:
        kind = "payment"
    elif "item" in asked or {"size", "colour"} & set(entities):
        kind = "item"
    else:
        ctx.ask("ask_change_kind", "change_kind", flow)
        return
    # Remembered by the request word that chose it, so the next turn chooses the same.
    ctx.slots["change_kinds"] = [{"payment": "payment_method"}.get(kind, kind)]
    order = await load_own_order(ctx, flow)
    if order is None:
        return
    tool = {
        "cancel": "cancel_order",
        "address": "modify_order_address",
        "payment": "modify_order_payment",
        "item": "modify_order_items",
    }[kind]
    if not check_eligible(ctx, tool, order):
        return
    if kind == "cancel":
        total = money(ctx, order_total(order), await customer_country(ctx, order), order.currency)
        propose(
            ctx,
            "cancel_order",
            {"order_id": order.id, "reason": "customer request"},
            "propose_cancel",
            flow,
            order_id=order.id,
            items=_items(order),
            total=total,
        )
    elif kind == "address":
        address = _address_from_slots(ctx, flow)
        if address is None:
            return
        country = order.shipping_address.country if order.shipping_address else None
        full = {**({"country": country} if country else {}), **address}
        propose(
            ctx,
            "modify_order_address",
            {"order_id": order.id, "address": full},
            "propose_order_address",
            flow,
            order_id=order.id,
            address=address_text(address),
        )
    elif kind == "payment":
        await _propose_payment_change(ctx, order, flow)
    else:
        await _propose_item_change(ctx, order, flow, "modify_order_items", "propose_item_change")


async def _propose_payment_change(ctx: FlowContext, order: Order, flow: str) -> None:
    found = await ctx.call_tool(
        "get_customer_profile",
        {"customer_id": ctx.customer_id},
        lambda c: "profile" if c else "not found",
    )
    customer = Customer.model_validate(found)
    text = ctx.text.lower()
    current = {p.method_id for p in order.payments}
    choices = [m for m in customer.payment_methods if m.id not in current]
    wanted = [
        m
        for m in choices
        if m.kind.lower() in text or (m.label or "").lower().split(" ")[0] in text
    ]
    method = next(iter(wanted or choices), None)
    if method is None:
        refuse(ctx, "no_other_method")
        return
    propose(
        ctx,
        "modify_order_payment",
        {"order_id": order.id, "method_id": method.id},
        "propose_payment_change",
        flow,
        order_id=order.id,
        method=payment_method(ctx.deps.templates, ctx.language, method.kind, method.label),
    )


async def _propose_item_change(
    ctx: FlowContext, order: Order, flow: str, tool: str, key: str
) -> None:
    entities = {k: v for k, v in ctx.slots.items() if k in ("size", "colour")}
    if not entities:
        ctx.ask("ask_new_variant", "size", flow)
        return
    index = _item_index(order, ctx.slots.get("product_id"))
    item = order.items[index]
    product = await load_product(ctx, item.product_id)
    if product is None:
        refuse(ctx, "unknown_variant", order_id=order.id)
        return
    variant = _find_variant(product, item.variant_id, entities)
    templates, lang = ctx.deps.templates, ctx.language
    label = variant_label(templates, lang, entities)
    if variant is None:
        refuse(ctx, "unknown_variant", product=product.name, variant=label)
        return
    rows = await ctx.call_tool(
        "check_stock",
        {
            "product_id": product.id,
            **{k: str(v) for k, v in variant.options.items() if k in ("size", "colour")},
        },
        lambda m: f"{sum(r['in_stock'] for r in m)} in stock",
    )
    if not any(r["variant_id"] == variant.id and r["in_stock"] for r in rows):
        refuse(ctx, "out_of_stock", product=product.name, variant=label)
        return
    new_label = variant_label(templates, lang, variant.options)
    propose(
        ctx,
        tool,
        {"order_id": order.id, "item_index": index, "variant_id": variant.id},
        key,
        flow,
        order_id=order.id,
        product=product.name,
        variant=new_label,
    )


@handles("returns_refunds")
async def returns_refunds(ctx: FlowContext) -> bool:
    """Return or exchange delivered items. False when the question is general (the KB answers)."""
    flow = "returns_refunds"
    text = ctx.text
    asked = kinds(text) | set(ctx.slots.get("change_kinds", []))
    entities = ctx.state.entities
    specific = ctx.slots.get("order_id") or ctx.state.active_flow == flow
    if not specific and "order_id" not in entities:
        return False
    kind = "exchange" if "exchange" in asked else "return"
    ctx.slots["change_kinds"] = [kind]
    if "store_credit" in kinds(text):  # remembered while identity is checked first
        ctx.slots["refund_method"] = "store_credit"
    order = await load_own_order(ctx, flow)
    if order is None:
        return True
    tool = "exchange_items" if kind == "exchange" else "return_items"
    if not check_eligible(ctx, tool, order):
        return True
    if kind == "exchange":
        await _propose_item_change(ctx, order, flow, "exchange_items", "propose_exchange")
        return True
    product_id = entities.get("product_id")
    indexes = [
        i
        for i, it in enumerate(order.items)
        if not getattr(it, "returned", False) and (not product_id or it.product_id == product_id)
    ]
    if not indexes:
        refuse(ctx, "already_returned", order_id=order.id)
        return True
    amount = sum((order.items[i].price or 0) * order.items[i].quantity for i in indexes)
    method = ctx.slots.get("refund_method") or "original"
    propose(
        ctx,
        "return_items",
        {"order_id": order.id, "item_indexes": indexes, "refund_method": method},
        "propose_return" if method == "original" else "propose_return_credit",
        flow,
        done="done.return_items" if method == "original" else "done.return_items_credit",
        order_id=order.id,
        items=", ".join(order.items[i].name or order.items[i].product_id for i in indexes),
        refund=money(ctx, amount, await customer_country(ctx, order), order.currency),
    )
    return True


@handles("payment")
async def payment(ctx: FlowContext) -> bool:
    """Payment status and retry of a failed payment. False for general payment questions."""
    flow = "payment"
    text = ctx.text
    asked = kinds(text)
    if "payment_method" in asked and ctx.slots.get("order_id") and "retry_payment" not in asked:
        ctx.slots["change_kinds"] = ["payment_method"]
        await order_modification(ctx)
        return True
    if not (
        {"retry_payment"} & asked
        or ctx.state.active_flow == flow
        or "order_id" in ctx.state.entities
    ):
        return False
    order = await load_own_order(ctx, flow)
    if order is None:
        return True
    status = await ctx.call_tool(
        "payment_status",
        {"order_id": order.id},
        lambda r: f"payment {r['status']}" if r else "not found",
    )
    amount = money(
        ctx,
        status.get("amount") or order_total(order),
        await customer_country(ctx, order),
        order.currency,
    )
    if status["status"] == "failed" and order.status == "pending":
        propose(
            ctx,
            "retry_payment",
            {"order_id": order.id},
            "propose_retry_payment",
            flow,
            order_id=order.id,
            amount=amount,
        )
    else:
        # An order the shop's export lists no payment for says so, never "is none".
        key = "payment_status_none" if status["status"] == "none" else "payment_status"
        said = say_value(ctx.deps.templates, ctx.language, "payment_status", status["status"])
        ctx.say(key, order_id=order.id, status=said, amount=amount)
        ctx.done()
    return True


@handles("account")
async def account_flow(ctx: FlowContext) -> None:
    """An account change; a general account question that gives an email verifies the
    customer (so the next question about their account needs no identity step)."""
    handled = await account(ctx)
    if not handled and ctx.state.entities.get("email"):
        await ensure_identity(ctx, "account")


async def account(ctx: FlowContext) -> bool:
    """Default address change and preferences. False for general account questions (KB)."""
    flow = "account"
    text = ctx.text
    asked = kinds(text)
    wants_address = "address" in asked or (
        ctx.state.active_flow == flow and ctx.state.awaiting == "address"
    )
    if "preferences" in asked or ctx.slots.get("preferences_pending"):
        return await _preferences(ctx, flow)
    if not wants_address and not (
        ctx.state.active_flow == flow and ctx.slots.get("address_change")
    ):
        return False
    ctx.slots["address_change"] = True
    remember_address(ctx)
    if not await ensure_identity(ctx, flow):
        return True
    address = _address_from_slots(ctx, flow)
    if address is None:
        return True
    found = await ctx.call_tool(
        "get_customer_profile",
        {"customer_id": ctx.customer_id},
        lambda c: "profile" if c else "not found",
    )
    current = Customer.model_validate(found).address
    country = current.country if current else None
    full = Address.model_validate({**({"country": country} if country else {}), **address})
    ctx.slots.pop("address_change", None)
    propose(
        ctx,
        "modify_customer_address",
        {"customer_id": ctx.customer_id, "address": full.model_dump(exclude_none=True)},
        "propose_customer_address",
        flow,
        address=address_text(address),
    )
    return True


async def _preferences(ctx: FlowContext, flow: str) -> bool:
    from supportgraph.nlu.requests import channel, preferred_language

    text = ctx.text
    prefs = {
        k: v
        for k, v in (("language", preferred_language(text)), ("contact_channel", channel(text)))
        if v
    }
    if prefs:
        ctx.slots["preferences_pending"] = prefs
    prefs = ctx.slots.get("preferences_pending") or {}
    if not prefs:
        return False
    if not await ensure_identity(ctx, flow):
        return True
    ctx.slots.pop("preferences_pending", None)
    await ctx.call_tool(
        "update_preferences",
        {
            "customer_id": ctx.customer_id,
            **prefs,
            "key": f"{ctx.thread_id}:{ctx.turn}:update_preferences",
        },
        lambda r: "updated",
    )
    ctx.say("preferences_updated", preferences=preferences(ctx.deps.templates, ctx.language, prefs))
    ctx.done()
    return True


def _items(order: Order) -> str:
    return ", ".join(i.name or i.product_id for i in order.items) or "-"
