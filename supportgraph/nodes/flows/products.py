"""Product flows: details, price, stock by size/colour, alternatives when out of stock."""

from __future__ import annotations

from typing import Any

from supportgraph.domain.catalogue import find_variant, in_stock
from supportgraph.domain.schema import Product, Variant
from supportgraph.nlu.requests import kinds
from supportgraph.nodes.flows.base import FlowContext
from supportgraph.nodes.flows.display import (
    customer_country,
    money,
    option_name,
    option_value,
    say_value,
    variant_label,
)
from supportgraph.nodes.flows.registry import handles
from supportgraph.templates import Templates

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


def options_summary(
    product: Product, templates: Templates, language: str, in_stock_only: bool = False
) -> str:
    """'material: Oak, Walnut; finish: Matte' for a product whose options are not size/colour,
    in the reply language where it has words for them ('materiale: pelle, camoscio')."""
    keys = list(dict.fromkeys(k for v in product.variants for k in v.options))
    parts = [
        f"{option_name(templates, language, key)}: "
        + ", ".join(option_value(templates, language, value, key) for value in values)
        for key in keys
        if key not in ("size", "colour") and (values := option_values(product, key, in_stock_only))
    ]
    return "; ".join(parts)


def said_values(
    ctx: FlowContext, product: Product, option: str, in_stock_only: bool = False
) -> str:
    """The values of one option ('nero, bianco'), in the reply language; '-' for none."""
    values = option_values(product, option, in_stock_only)
    templates, lang = ctx.deps.templates, ctx.language
    return ", ".join(option_value(templates, lang, v, option) for v in values) or "-"


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
    templates = ctx.deps.templates
    country = await customer_country(ctx)
    wanted = wanted_options(product, slots)
    if not wanted:
        others = options_summary(product, templates, lang, True)
        ctx.say(
            "product_details_options" if others else "product_details",
            product=product.name,
            description=product.description or "",
            price=money(ctx, variant_price(product, None), country),
            colours=said_values(ctx, product, "colour", True),
            sizes=said_values(ctx, product, "size", True),
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
    label = variant_label(templates, lang, wanted)
    if in_stock:
        variant = in_stock[0]
        ctx.say(
            "stock_available",
            product=product.name,
            variant=label,
            price=money(ctx, variant_price(product, variant), country),
            count=variant.stock if variant.stock is not None else "",
        )
        ctx.done()
        return
    if not matches:
        others = options_summary(product, templates, lang)
        ctx.say(
            "variant_unknown_options" if others else "variant_unknown",
            product=product.name,
            variant=label,
            sizes=said_values(ctx, product, "size"),
            colours=said_values(ctx, product, "colour"),
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
        f"{a['name']} {variant_label(templates, lang, a['options'])}"
        if a["product_id"] != product.id
        else variant_label(templates, lang, a["options"])
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
            names = sorted(
                say_value(ctx.deps.templates, ctx.language, "product_type", t) for t in types
            )
            ctx.ask("ask_product", "product", flow, types=", ".join(names))
        return
    found = await ctx.call_tool(
        "search_products", {"product_type": product_type}, lambda ps: f"{len(ps)} products"
    )
    of_type = [Product.model_validate(p) for p in found]
    said = say_value(ctx.deps.templates, ctx.language, "product_type", product_type)
    if not of_type:
        ctx.ask("product_type_none", "product", flow, product_type=said)
        return
    country = await customer_country(ctx)
    listing = ", ".join(
        f"{p.name} ({money(ctx, variant_price(p, None), country)})" for p in of_type[:MAX_LISTED]
    )
    ctx.ask("product_type_list", "product", flow, product_type=said, products=listing)


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
        price=money(ctx, variant_price(product, None), await customer_country(ctx)),
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
    label = variant_label(ctx.deps.templates, ctx.language, wanted) or "-"
    ctx.say("restock_subscribed", product=product.name, variant=label)
    ctx.slots.pop("restock_requested", None)
    ctx.done()
