"""Product flows: details, price, stock by size/colour, alternatives when out of stock."""

from __future__ import annotations

from supportgraph.nodes.flows.base import FlowContext
from supportgraph.templates import format_money
from supportgraph.tools.schema import Product, Variant
from supportgraph.tools.sqlite_store import variant_in_stock

MAX_LISTED = 4


def variant_price(product: Product, variant: Variant | None) -> float | None:
    if variant is not None and variant.price is not None:
        return variant.price
    return product.price


def option_values(product: Product, option: str, in_stock_only: bool = False) -> list[str]:
    values: list[str] = []
    for v in product.variants:
        value = v.options.get(option)
        if value and value not in values and (not in_stock_only or variant_in_stock(v)):
            values.append(value)
    return values


async def product_inquiry(ctx: FlowContext, flow: str = "product_inquiry") -> None:
    slots = ctx.slots
    product_id = slots.get("product_id")
    if not product_id:
        await _list_type(ctx, flow)
        return
    product = await ctx.call(
        "get_product_details",
        {"product_id": product_id},
        lambda: ctx.deps.store.get_product(product_id),
        lambda p: p.name if p else "not found",
    )
    if product is None:
        ctx.ask("product_not_found", "product", flow)
        return
    lang = ctx.language
    currency = ctx.deps.currency
    wanted = {k: slots[k] for k in ("size", "colour") if slots.get(k)}
    if not wanted:
        ctx.say(
            "product_details",
            product=product.name,
            description=product.description or "",
            price=format_money(variant_price(product, None), lang, currency),
            colours=", ".join(option_values(product, "colour", True)) or "-",
            sizes=", ".join(option_values(product, "size", True)) or "-",
        )
        if "size" in {k for v in product.variants for k in v.options}:
            ctx.ask("ask_size", "size", flow, product=product.name)
        else:
            ctx.done()
        return
    matches = await ctx.call(
        "check_stock",
        {"product_id": product.id, **wanted},
        lambda: ctx.deps.store.check_stock(product.id, wanted),
        lambda m: f"{sum(ok for _, ok in m)} of {len(m)} matching variants in stock",
    )
    in_stock = [v for v, ok in matches if ok]
    label = " / ".join(str(wanted[k]) for k in ("size", "colour") if k in wanted)
    if in_stock:
        variant = in_stock[0]
        ctx.say(
            "stock_available",
            product=product.name,
            variant=label,
            price=format_money(variant_price(product, variant), lang, currency),
            count=variant.stock if variant.stock is not None else "",
        )
        ctx.done()
        return
    if not matches:
        ctx.say(
            "variant_unknown",
            product=product.name,
            variant=label,
            sizes=", ".join(option_values(product, "size")) or "-",
            colours=", ".join(option_values(product, "colour")) or "-",
        )
        ctx.done()
        return
    alternatives = _alternatives(product, wanted)
    ctx.say(
        "stock_unavailable",
        product=product.name,
        variant=label,
        alternatives=", ".join(alternatives) or "-",
    )
    ctx.done()


def _alternatives(product: Product, wanted: dict[str, str]) -> list[str]:
    """Variants in stock that keep the size (other colours) or the colour (other sizes)."""
    found: list[str] = []
    for keep in ("size", "colour"):
        if keep not in wanted:
            continue
        for v in product.variants:
            if variant_in_stock(v) and str(v.options.get(keep, "")).lower() == wanted[keep].lower():
                label = " / ".join(str(x) for x in v.options.values())
                if label not in found:
                    found.append(label)
    return found[:MAX_LISTED]


async def _list_type(ctx: FlowContext, flow: str) -> None:
    product_type = ctx.slots.get("product_type")
    if not product_type:
        if not ctx.state.get("kb_hits"):  # a size-guide style question is answered by the KB
            ctx.ask("ask_product", "product", flow)
        return
    products = await ctx.call(
        "list_products",
        {"type": product_type},
        ctx.deps.store.list_products,
        lambda ps: f"{len(ps)} products",
    )
    of_type = [p for p in products if (p.type or "").lower() == product_type]
    if not of_type:
        ctx.ask("product_type_none", "product", flow, product_type=product_type)
        return
    lang = ctx.language
    listing = ", ".join(
        f"{p.name} ({format_money(variant_price(p, None), lang, ctx.deps.currency)})"
        for p in of_type[:MAX_LISTED]
    )
    ctx.ask("product_type_list", "product", flow, product_type=product_type, products=listing)


async def product_price(ctx: FlowContext) -> bool:
    """For pricing questions about a named product. False when no product was named."""
    product_id = ctx.slots.get("product_id")
    if not product_id or "product_id" not in (ctx.state.get("entities") or {}):
        return False
    product = await ctx.call(
        "get_product_details",
        {"product_id": product_id},
        lambda: ctx.deps.store.get_product(product_id),
        lambda p: p.name if p else "not found",
    )
    if product is None:
        return False
    ctx.say(
        "product_price",
        product=product.name,
        price=format_money(variant_price(product, None), ctx.language, ctx.deps.currency),
    )
    return True
