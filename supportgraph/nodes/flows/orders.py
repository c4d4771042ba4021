"""Order flows: tracking (status, carrier, tracking number, ETA)."""

from __future__ import annotations

from typing import Any

from supportgraph.domain.catalogue import order_total
from supportgraph.domain.policy import ELIGIBLE_STATUS
from supportgraph.domain.schema import Fulfilment, Order
from supportgraph.nodes.flows.base import FlowContext, Refused
from supportgraph.nodes.flows.display import customer_country, date, money, say_value
from supportgraph.nodes.flows.identity import (
    ensure_identity,
    has_identity_details,
    verify_with_order,
)
from supportgraph.nodes.flows.registry import handles

# The orders a request without an order number can be about, by flow: when the customer has
# exactly one of them, the flow uses it instead of asking which (a cancellation needs a
# pending order, a return a delivered one, "where is my order?" one not delivered yet).
FITTING_STATUS: dict[str, tuple[str, ...]] = {
    "order_tracking": ("pending", "processed", "shipped"),
    "order_modification": ELIGIBLE_STATUS["cancel_order"],
    "returns_refunds": ELIGIBLE_STATUS["return_items"],
    "payment": ELIGIBLE_STATUS["retry_payment"],
}
LISTED_ORDERS = 5  # a list to choose from, not the customer's whole history


async def load_own_order(ctx: FlowContext, flow: str) -> Order | None:
    """The order the request is about, once it is the verified customer's; asks otherwise.

    With an order number: the customer is verified against it (or is already). Without
    one: details already given (an email in the first message, "I don't have the order
    number") verify the customer, whose orders are then listed to choose from; with none
    given the order number is asked for first."""
    order_id = ctx.slots.get("order_id")
    if order_id and not ctx.customer_id:
        return await verify_with_order(ctx, flow, order_id)
    if order_id:
        return await _own_order(ctx, flow, order_id)
    if not ctx.customer_id and not has_identity_details(ctx):
        ctx.ask("ask_order_id", "order_id", flow)
        return None
    if not await ensure_identity(ctx, flow):
        return None
    chosen = await _choose_order(ctx, flow)
    return await _own_order(ctx, flow, chosen) if chosen else None


async def _own_order(ctx: FlowContext, flow: str, order_id: str) -> Order | None:
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


async def _choose_order(ctx: FlowContext, flow: str) -> str | None:
    """A verified customer without an order number: the one order that fits the request,
    else None after listing their recent orders to choose from (or saying there are none)."""
    listed: list[dict[str, Any]] = await ctx.call_tool(
        "list_customer_orders",
        {"customer_id": ctx.customer_id},
        lambda os: f"{len(os)} orders",
    )
    ctx.slots.pop("no_reference", None)  # answered: here are their orders
    if not listed:
        ctx.say("no_orders")
        ctx.done()
        return None
    fitting = [o for o in listed if o["status"] in FITTING_STATUS.get(flow, ())]
    if len(fitting) == 1:
        return str(fitting[0]["id"])
    if not fitting and len(listed) == 1:
        return str(listed[0]["id"])  # their only order: the flow says what it can do with it
    newest = sorted(listed, key=lambda o: o.get("created_at") or "", reverse=True)
    ctx.ask("choose_order", "order_id", flow, orders=await _order_lines(ctx, newest))
    return None


async def _order_lines(ctx: FlowContext, listed: list[dict[str, Any]]) -> str:
    """Id, date, status and total of each of the newest orders, in the reply language.
    The amounts come from the store's records of the same orders: the listing tool, whose
    call the guard checked above, carries no amounts."""
    assert ctx.customer_id is not None  # only verified customers get here
    records = {o.id: o for o in await ctx.deps.store.list_orders(ctx.customer_id)}
    lang = ctx.language
    lines = []
    for row in listed[:LISTED_ORDERS]:
        order = records.get(str(row["id"]))
        total = order_total(order) if order is not None else None
        country = await customer_country(ctx, order)
        lines.append(
            ctx.deps.templates.render(
                "order_line",
                lang,
                order_id=row["id"],
                date=date(ctx, row.get("created_at"), country),
                status=ctx.deps.templates.render(f"status.{row['status']}", lang),
                total=money(ctx, total, country, order.currency if order is not None else None),
            )
        )
    return "; ".join(lines)


@handles("order_tracking")
async def track_order(ctx: FlowContext) -> None:
    order = await load_own_order(ctx, "order_tracking")
    if order is None:
        return
    items = ", ".join(i.name or i.product_id for i in order.items) or "-"
    country = await customer_country(ctx, order)
    params = {
        "order_id": order.id,
        "items": items,
        "total": money(ctx, order_total(order), country, order.currency),
        "created": date(ctx, order.created_at, country),
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
            eta=date(ctx, fulfilment.eta, country) if fulfilment.eta else "",
            delivered=date(ctx, fulfilment.delivered_at, country),
        )
    ctx.say(status_key(order.status, fulfilment), **params)
    ctx.done()


def status_key(status: str, fulfilment: Fulfilment | None) -> str:
    """The status reply that says only what the store knows: many shops' exports have no
    delivery dates or tracking numbers, and the reply must not show a dash in their place."""
    carrier = fulfilment.carrier if fulfilment else None
    if status == "delivered":
        if not carrier:
            return "order_status_delivered_plain"
        dated = fulfilment is not None and fulfilment.delivered_at
        return "order_status_delivered" if dated else "order_status_delivered_by"
    if status == "shipped":
        if fulfilment is None or not carrier:
            return "order_status_shipped_plain"
        if not fulfilment.tracking_number:
            eta = fulfilment.eta
            return "order_status_shipped_untracked_eta" if eta else "order_status_shipped_untracked"
        if not fulfilment.eta:
            return "order_status_shipped_no_eta"
    return f"order_status_{status}"


@handles("shipping")
async def delivery_estimate(ctx: FlowContext) -> bool:
    """'How long to France?': a date range from the shipping rules. False if not asked."""
    from supportgraph.nlu.requests import country, kinds

    text = ctx.text
    target = country(text)
    # A date estimate answers "how long / when"; "which carrier to France?" is a KB question.
    asked = kinds(text)
    if "estimate" not in asked:
        return False
    # "espressa", "exprés", "速達", "الشحن السريع": the express words of every language.
    method = "express" if "express" in asked else "standard"
    result = await ctx.call_tool(
        "estimate_delivery",
        {"country": target, "method": method},
        lambda r: (
            f"{r.get('earliest')}..{r.get('latest')}" if r.get("deliverable") else "no delivery"
        ),
    )
    if not result["deliverable"]:
        ctx.say("estimate_not_deliverable", country=target or "-")
        return True
    home = await customer_country(ctx)  # the customer's own, not the destination's
    ctx.say(
        "delivery_estimate",
        method=say_value(ctx.deps.templates, ctx.language, "method", method),
        earliest=date(ctx, result["earliest"], home),
        latest=date(ctx, result["latest"], home),
        price=money(ctx, result["price"], home),
    )
    return True
