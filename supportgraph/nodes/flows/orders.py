"""Order flows: tracking (status, carrier, tracking number, ETA)."""

from __future__ import annotations

from supportgraph.domain.catalogue import order_total
from supportgraph.domain.schema import Fulfilment, Order
from supportgraph.nodes.flows.base import FlowContext, Refused
from supportgraph.nodes.flows.identity import ensure_identity
from supportgraph.nodes.flows.registry import handles
from supportgraph.templates import format_date, format_money


async def load_own_order(ctx: FlowContext, flow: str) -> Order | None:
    """The order in the slots if it belongs to the verified customer; asks otherwise."""
    order_id = ctx.slots.get("order_id")
    if not order_id and ctx.customer_id:
        await _ask_which_order(ctx, flow)
        return None
    if not order_id:
        ctx.ask("ask_order_id", "order_id", flow)
        return None
    if not await ensure_identity(ctx, flow):
        return None
    try:
        found = await ctx.call_tool(
            "get_order_details",
            {"order_id": order_id},
            lambda o: f"{o['id']} {o['status']}" if o else "not found",
        )
    except Refused:
        found = None  # another customer's order is "not found": existence is not disclosed
    if not found:
        ctx.slots.pop("order_id", None)
        ctx.ask("order_not_found", "order_id", flow, order_id=order_id)
        return None
    order = Order.model_validate(found)
    ctx.slots["order_id"] = order.id
    return order


async def _ask_which_order(ctx: FlowContext, flow: str) -> None:
    """A verified customer without an order number: show their recent orders to pick from."""
    orders = await ctx.call_tool(
        "list_customer_orders",
        {"customer_id": ctx.customer_id},
        lambda os: f"{len(os)} orders",
    )
    if not orders:
        ctx.say("no_orders")
        ctx.done()
        return
    listing = "; ".join(
        f"{o['id']} ({', '.join(o['items'][:2])}, {ctx.deps.templates.render('status.' + o['status'], ctx.language)})"
        for o in orders[:5]
    )
    ctx.ask("choose_order", "order_id", flow, orders=listing)


@handles("order_tracking")
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
    fulfilment = None
    if order.status in ("shipped", "delivered", "returned") and order.fulfilments:
        tracked = await ctx.call_tool(
            "track_shipment",
            {"order_id": order.id},
            lambda t: f"{t.get('carrier')} {t.get('tracking_number')}" if t else "no shipment",
        )
        fulfilment = Fulfilment.model_validate(tracked)
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


@handles("shipping")
async def delivery_estimate(ctx: FlowContext) -> bool:
    """'How long to France?': a date range from the shipping rules. False if not asked."""
    from supportgraph.nlu.requests import country, kinds

    text = ctx.text
    target = country(text)
    # A date estimate answers "how long / when"; "which carrier to France?" is a KB question.
    if "estimate" not in kinds(text):
        return False
    method = "express" if "express" in text.lower() else "standard"
    result = await ctx.call_tool(
        "estimate_delivery",
        {"country": target, "method": method},
        lambda r: (
            f"{r.get('earliest')}..{r.get('latest')}" if r.get("deliverable") else "no delivery"
        ),
    )
    lang = ctx.language
    if not result["deliverable"]:
        ctx.say("estimate_not_deliverable", country=target or "-")
        return True
    ctx.say(
        "delivery_estimate",
        method=method,
        earliest=format_date(result["earliest"], lang),
        latest=format_date(result["latest"], lang),
        price=format_money(result["price"], lang, ctx.deps.currency),
    )
    return True
