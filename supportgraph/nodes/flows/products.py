"""Product flows: details, price, stock by size/colour, alternatives when out of stock."""

from __future__ import annotations

from typing import Any

from supportgraph.domain.catalogue import find_variant, in_stock
from supportgraph.domain.schema import Product, Variant
from supportgraph.nlu.requests import kinds
from supportgraph.nodes.flows.base import FlowContext
from supportgraph.nodes.flows.registry import handles
from supportgraph.templates import format_money

MAX_LISTED = 4


async def load_product(ctx: FlowContext, product_id: str) -> Product | None:
    found = await ctx.call_tool(
        "get_product_details", {"product_id": product_id}, lambda p: p["name"] if p else "not found"
    )
    return Product.model_validate(found) if found else None


def variant_price(product: Product, variant: Variant | None) -> float | None:
    if variant is not None and variant.price is not None:
        return variant.price
    return product.price


def option_values(product: Product, option: str, in_stock_only: bool = False) -> list[str]:
    values: list[str] = []
    for v in product.variants:
        value = v.options.get(option)
        if value and value not in values and (not in_stock_only or in_stock(v)):
            values.append(value)
    return values


def wanted_options(product: Product, slots: dict[str, Any]) -> dict[str, str]:
    """The options asked for that this product has, by the store's own keys: size and colour
    as the size/colour rules read them, and any option value of the catalogue the customer
    named ("walnut" -> material: Walnut; "negro" -> Color: Black)."""
    keys = {k for v in product.variants for k in v.options}
    wanted: dict[str, str] = {
        k: str(slots[k]) for k in ("size", "colour") if slots.get(k) and k in keys
    }
    for key, value in (slots.get("options") or {}).items():
        if key in keys:
            wanted[key] = str(value)
    return wanted


def stock_args(product: Product, wanted: dict[str, str]) -> dict[str, Any]:
    """check_stock / suggest_alternatives arguments: size and colour, the rest as options."""
    args: dict[str, Any] = {"product_id": product.id}
    args.update({k: v for k, v in wanted.items() if k in ("size", "colour")})
    others = {k: v for k, v in wanted.items() if k not in ("size", "colour")}
    if others:
        args["options"] = others
    return args


def options_summary(product: Product, in_stock_only: bool = False) -> str:
    """'material: Oak, Walnut; finish: Matte' for a product whose options are not size/colour."""
    keys = list(dict.fromkeys(k for v in product.variants for k in v.options))
    parts = [
        f"{key}: {', '.join(values)}"
        for key in keys
        if key not in ("size", "colour") and (values := option_values(product, key, in_stock_only))
    ]
    return "; ".join(parts)


@handles("product_inquiry")
async def product_questions(ctx: FlowContext) -> None:
    """A restock request (now or still pending from an earlier turn), else the product itself."""
    if "restock" in kinds(ctx.text) or ctx.slots.get("restock_requested"):
        await restock(ctx)
    else:
        await product_inquiry(ctx)


async def product_inquiry(ctx: FlowContext, flow: str = "product_inquiry") -> None:
    slots = ctx.slots
    product_id = slots.get("product_id")
    if not product_id:
        await _list_type(ctx, flow)
        return
    product = await load_product(ctx, product_id)
    if product is None:
        ctx.ask("product_not_found", "product", flow)
        return
    lang = ctx.language
    currency = ctx.deps.currency
    wanted = wanted_options(product, slots)
    if not wanted:
        others = options_summary(product, True)
        ctx.say(
            "product_details_options" if others else "product_details",
            product=product.name,
            description=product.description or "",
            price=format_money(variant_price(product, None), lang, currency),
            colours=", ".join(option_values(product, "colour", True)) or "-",
            sizes=", ".join(option_values(product, "size", True)) or "-",
            options=others,
        )
        if "size" in {k for v in product.variants for k in v.options}:
            ctx.ask("ask_size", "size", flow, product=product.name)
        else:
            ctx.done()
        return
    rows = await ctx.call_tool(
        "check_stock",
        stock_args(product, wanted),
        lambda m: f"{sum(r['in_stock'] for r in m)} of {len(m)} matching variants in stock",
    )
    variants = {v.id: v for v in product.variants}
    matches = [(variants[r["variant_id"]], r["in_stock"]) for r in rows]
    in_stock = [v for v, ok in matches if ok]
    label = " / ".join(wanted.values())
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
        others = options_summary(product)
        ctx.say(
            "variant_unknown_options" if others else "variant_unknown",
            product=product.name,
            variant=label,
            sizes=", ".join(option_values(product, "size")) or "-",
            colours=", ".join(option_values(product, "colour")) or "-",
            options=others,
        )
        ctx.done()
        return
    alternatives = await ctx.call_tool(
        "suggest_alternatives",
        stock_args(product, wanted),
        lambda alts: f"{len(alts)} alternatives",
    )
    listed = [
        f"{a['name']} " + " / ".join(str(v) for v in a["options"].values())
        if a["product_id"] != product.id
        else " / ".join(str(v) for v in a["options"].values())
        for a in alternatives[:MAX_LISTED]
    ]
    ctx.say(
        "stock_unavailable",
        product=product.name,
        variant=label,
        alternatives=", ".join(listed) or "-",
    )
    # Offer a restock notification: a yes next turn subscribes (after identity if needed).
    ctx.update["pending_action"] = {
        "tool": "subscribe_restock",
        "flow": "product_inquiry",
        "offer": True,
    }
    ctx.ask("offer_restock", "confirmation", "product_inquiry")


async def _list_type(ctx: FlowContext, flow: str) -> None:
    product_type = ctx.slots.get("product_type")
    if not product_type:
        if not ctx.state.kb_hits:  # a size-guide style question is answered by the KB
            types = await ctx.call_tool(
                "list_product_types", {}, lambda t: f"{len(t)} product types"
            )
            ctx.ask("ask_product", "product", flow, types=", ".join(sorted(types)))
        return
    found = await ctx.call_tool(
        "search_products", {"product_type": product_type}, lambda ps: f"{len(ps)} products"
    )
    of_type = [Product.model_validate(p) for p in found]
    if not of_type:
        ctx.ask("product_type_none", "product", flow, product_type=product_type)
        return
    lang = ctx.language
    listing = ", ".join(
        f"{p.name} ({format_money(variant_price(p, None), lang, ctx.deps.currency)})"
        for p in of_type[:MAX_LISTED]
    )
    ctx.ask("product_type_list", "product", flow, product_type=product_type, products=listing)


@handles("pricing")
async def product_price(ctx: FlowContext) -> bool:
    """For pricing questions about a named product. False when no product was named."""
    product_id = ctx.slots.get("product_id")
    if not product_id or "product_id" not in ctx.state.entities:
        return False
    product = await load_product(ctx, product_id)
    if product is None:
        return False
    ctx.say(
        "product_price",
        product=product.name,
        price=format_money(variant_price(product, None), ctx.language, ctx.deps.currency),
    )
    return True


async def restock(ctx: FlowContext) -> None:
    """Subscribe the verified customer to a restock notification for the product in the slots."""
    from supportgraph.nodes.flows.identity import ensure_identity

    flow = "product_inquiry"
    ctx.slots["restock_requested"] = True
    product_id = ctx.slots.get("product_id")
    if not product_id:
        ctx.ask("ask_product", "product", flow)
        return
    if not await ensure_identity(ctx, flow):
        return
    product = await load_product(ctx, product_id)
    if product is None:
        ctx.ask("product_not_found", "product", flow)
        return
    wanted = wanted_options(product, ctx.slots)
    variant = find_variant(product, wanted)
    await ctx.call_tool(
        "subscribe_restock",
        {
            "customer_id": ctx.customer_id,
            "product_id": product.id,
            "variant_id": variant.id if variant else None,
        },
        lambda r: "subscribed",
    )
    label = " / ".join(wanted.values()) or "-"
    ctx.say("restock_subscribed", product=product.name, variant=label)
    ctx.slots.pop("restock_requested", None)
    ctx.done()
