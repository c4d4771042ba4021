"""Order flows: tracking (status, carrier, tracking number, ETA)."""

from __future__ import annotations

from supportgraph.nodes.flows.base import FlowContext
from supportgraph.nodes.flows.identity import ensure_identity
from supportgraph.templates import format_date, format_money
from supportgraph.tools.schema import Order


async def load_own_order(ctx: FlowContext, flow: str) -> Order | None:
    """The order in the slots if it belongs to the verified customer; asks otherwise."""
    order_id = ctx.slots.get("order_id")
    if not order_id:
        ctx.ask("ask_order_id", "order_id", flow)
        return None
    if not await ensure_identity(ctx, flow):
        return None
    order = await ctx.call(
        "get_order_details",
        {"order_id": order_id},
        lambda: ctx.deps.store.get_order(order_id),
        lambda o: f"{o.id} {o.status}" if o else "not found",
    )
    if order is None or order.customer_id != ctx.customer_id:
        # Another customer's order is "not found": existence is not disclosed either.
        if order is not None:
            ctx.tool_calls[-1]["result_summary"] = "not found for this customer"
        ctx.slots.pop("order_id", None)
        ctx.ask("order_not_found", "order_id", flow, order_id=order_id)
        return None
    ctx.slots["order_id"] = order.id
    return order


def order_total(order: Order) -> float:
    return round(sum((i.price or 0.0) * i.quantity for i in order.items), 2)


async def track_order(ctx: FlowContext) -> None:
    order = await load_own_order(ctx, "order_tracking")
    if order is None:
        return
    lang = ctx.language
    items = ", ".join(i.name or i.product_id for i in order.items) or "-"
    params = {
        "order_id": order.id,
        "items": items,
        "total": format_money(order_total(order), lang, order.currency or ctx.deps.currency),
        "created": format_date(order.created_at, lang),
    }
    fulfilment = order.fulfilments[-1] if order.fulfilments else None
    if fulfilment:
        params.update(
            carrier=fulfilment.carrier or "-",
            tracking=fulfilment.tracking_number or "-",
            eta=format_date(fulfilment.eta, lang) if fulfilment.eta else "",
            delivered=format_date(fulfilment.delivered_at, lang),
        )
    key = f"order_status_{order.status}"
    if order.status == "shipped" and fulfilment and not fulfilment.eta:
        key = "order_status_shipped_no_eta"
    ctx.say(key, **params)
    ctx.done()
