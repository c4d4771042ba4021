"""Identity before account data: email, or name + zip code, matching the store.

Details the customer already gave (in any message: understand keeps them in the slots) are
used, never asked for again. With an order number, the customer those details name must own
that order: until then nobody is verified. One customer per conversation: once verified,
another identity is refused, and an order of another customer is reported as not found
(never disclosed).

A failed attempt gets one neutral reply, the same whether the email exists or not and
whether the order exists or is someone else's, so the replies tell nobody which emails or
orders exist. After Settings.identity_attempts failed attempts the thread looks nobody up
again (FlowContext.call_tool refuses the lookups too) and offers a person instead.
"""

from __future__ import annotations

import hashlib
from typing import Any

from supportgraph.domain.schema import Customer, Order
from supportgraph.nodes.flows.base import FlowContext, Refused

# The escalation this module raises itself: the customer cannot be verified here any more.
LOCKED_ESCALATION = {"action": "offer", "reason": "identity_attempts", "priority": "medium"}


def has_identity_details(ctx: FlowContext) -> bool:
    """The identity step has something to do before an order number is asked for: details
    to check, a customer who has no order number, or a thread that can only be told no."""
    if ctx.identity_locked:
        return True
    slots = ctx.slots
    return bool(slots.get("email") or slots.get("name") or slots.get("no_reference"))


def _details(ctx: FlowContext) -> tuple[str, dict[str, Any]] | None:
    """The lookup the slots allow: by email (preferred), or by full name and zip code."""
    email = ctx.slots.get("email")
    if email:
        return "find_customer_by_email", {"email": email}
    name, zip_code = ctx.slots.get("name"), ctx.slots.get("zip")
    if name and zip_code:
        return "find_customer_by_name_zip", {"name": name, "zip": zip_code}
    return None


def _attempt_key(tool: str, args: dict[str, Any], order_id: str | None) -> str:
    """What identifies an attempt, as a digest (the state keeps no second copy of them)."""
    values = [str(v).strip().lower() for v in args.values()]
    text = "|".join([tool, *values, str(order_id or "").upper()])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _ask_for_details(ctx: FlowContext, flow: str) -> None:
    name = ctx.slots.get("name")
    if name and not ctx.slots.get("email"):
        ctx.ask("ask_zip", "name_zip", flow, name=name)
    else:
        ctx.ask("ask_identity", "email", flow)


def _locked(ctx: FlowContext) -> None:
    """No more attempts: say so and offer a person (respond asks the offer's question)."""
    ctx.say("identity_locked")
    ctx.done()
    ctx.update["escalation"] = dict(LOCKED_ESCALATION)
    ctx.update["escalation_status"] = "offered"


def _failed(ctx: FlowContext, flow: str, order_id: str | None) -> None:
    """The one reply to a failed attempt; the thread's last allowed one offers a person."""
    if ctx.identity_locked:
        _locked(ctx)
    elif order_id:
        ctx.ask("identity_order_not_verified", "email", flow, order_id=order_id)
    else:
        ctx.ask("identity_not_verified", "email", flow)


async def _lookup(ctx: FlowContext, tool: str, args: dict[str, Any]) -> Customer | None:
    try:
        found = await ctx.call_tool(
            tool, args, lambda c: f"customer {c['id']}" if c else "no matching customer"
        )
    except Refused:  # the attempts ran out (call_tool refuses further lookups)
        return None
    return Customer.model_validate(found) if found else None


def _verified(ctx: FlowContext, customer: Customer) -> None:
    ctx.update["customer_id"] = customer.id
    ctx.update["customer_segment"] = customer.segment
    ctx.update["identity_tried"] = None
    ctx.say("identity_verified", name=customer.name.split()[0])


async def _owned_order(ctx: FlowContext, customer: Customer, order_id: str) -> Order | None:
    """The order if `customer` owns it. Asked through the policy guard as that customer
    (another customer's order is "not found" there too); the tentative identity is dropped
    again when it does not own it."""
    ctx.update["customer_id"] = customer.id
    try:
        found = await ctx.call_tool(
            "get_order_details",
            {"order_id": order_id},
            lambda o: f"{o['id']} {o['status']}" if o else "not found",
        )
    except Refused:
        found = None
    if not found:
        del ctx.update["customer_id"]
        return None
    return Order.model_validate(found)


async def _attempt(
    ctx: FlowContext, flow: str, order_id: str | None
) -> tuple[Customer, Order | None] | None:
    """One identity attempt with the details in the slots (and the order they must own);
    None when it failed or still needs details (the customer has been asked)."""
    if ctx.identity_locked:
        _locked(ctx)
        return None
    details = _details(ctx)
    if details is None:
        _ask_for_details(ctx, flow)
        return None
    tool, args = details
    key = _attempt_key(tool, args, order_id)
    if ctx.update.get("identity_tried", ctx.state.identity_tried) == key:
        # These exact details failed already: the same answer, and no attempt spent on them.
        _failed(ctx, flow, order_id)
        return None
    customer = await _lookup(ctx, tool, args)
    order = None
    if customer is not None and order_id:
        order = await _owned_order(ctx, customer, order_id)
        if order is None:
            ctx.identity_failed()
    if customer is None or (order_id and order is None):
        ctx.update["identity_tried"] = key
        _failed(ctx, flow, order_id)
        return None
    _verified(ctx, customer)
    return customer, order


async def ensure_identity(ctx: FlowContext, flow: str) -> bool:
    """True when a customer is verified; otherwise checks the details given or asks."""
    if ctx.customer_id:
        return True
    return await _attempt(ctx, flow, None) is not None


async def verify_with_order(ctx: FlowContext, flow: str, order_id: str) -> Order | None:
    """Verify the customer with an order number they gave: the order, once the details
    given name its owner; otherwise None (asked again, or told no, neutrally)."""
    verified = await _attempt(ctx, flow, order_id)
    return verified[1] if verified is not None else None


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
