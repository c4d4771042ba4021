"""Identity before account data: email, or name + zip code, matching the store.

One customer per conversation: once verified, another identity is refused, and an order
of another customer is reported as not found (never disclosed).
"""

from __future__ import annotations

from supportgraph.domain.schema import Customer
from supportgraph.nodes.flows.base import FlowContext


def _verified(ctx: FlowContext, customer: Customer) -> None:
    ctx.update["customer_id"] = customer.id
    ctx.update["customer_segment"] = customer.segment
    ctx.say("identity_verified", name=customer.name.split()[0])


async def ensure_identity(ctx: FlowContext, flow: str) -> bool:
    """True when a customer is verified; otherwise asks for what is missing."""
    if ctx.customer_id:
        return True
    email = ctx.slots.get("email")
    name, zip_code = ctx.slots.get("name"), ctx.slots.get("zip")
    if email:
        found = await ctx.call_tool(
            "find_customer_by_email",
            {"email": email},
            lambda c: f"customer {c['id']}" if c else "no customer with that email",
        )
        if found:
            _verified(ctx, Customer.model_validate(found))
            return True
        ctx.slots.pop("email", None)
        ctx.ask("identity_email_not_found", "email", flow, email=email)
        return False
    if name and zip_code:
        found = await ctx.call_tool(
            "find_customer_by_name_zip",
            {"name": name, "zip": zip_code},
            lambda c: f"customer {c['id']}" if c else "no customer with that name and zip",
        )
        if found:
            _verified(ctx, Customer.model_validate(found))
            return True
        ctx.slots.pop("name", None)
        ctx.slots.pop("zip", None)
        ctx.ask("identity_name_zip_not_found", "email", flow)
        return False
    if name:
        ctx.ask("ask_zip", "name_zip", flow, name=name)
        return False
    ctx.ask("ask_identity", "email", flow)
    return False


async def guard_other_identity(ctx: FlowContext) -> bool:
    """Refuse switching to another customer mid-conversation. True when refused."""
    entities = ctx.state.entities
    if not ctx.customer_id or "email" not in entities:
        return False
    current = await ctx.deps.store.get_customer(ctx.customer_id)
    if current and (current.email or "").lower() != entities["email"].lower():
        ctx.slots["email"] = current.email
        ctx.say("one_customer_only")
        return True
    return False
