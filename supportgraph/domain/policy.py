"""The policy guard: the one place every tool call passes before it reaches a backend.

The policies of docs/architecture.md (Contracts), as code: identity before account data,
one customer per conversation, another customer's order is "not found", writes only on
eligible orders and only when the exact change was stated and confirmed. Whatever proposes
a call (the offline flows or an LLM), this decides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from supportgraph.domain.schema import Order

# Which order statuses each order write accepts.
ELIGIBLE_STATUS = {
    "cancel_order": ("pending",),
    "modify_order_address": ("pending",),
    "modify_order_items": ("pending",),
    "modify_order_payment": ("pending",),
    "retry_payment": ("pending",),
    "return_items": ("delivered",),
    "exchange_items": ("delivered",),
}
# Writes: only the exact call the customer confirmed.
CONFIRMED_WRITES = set(ELIGIBLE_STATUS) | {"modify_customer_address"}
# Tools that read or change a customer's account: identity first.
ACCOUNT_TOOLS = CONFIRMED_WRITES | {
    "get_customer_profile",
    "list_customer_orders",
    "get_order_details",
    "track_shipment",
    "payment_status",
    "update_preferences",
    "subscribe_restock",
}
# Every tool that changes the store. A model may propose only the confirmed writes (which
# the guard refuses until the customer confirmed that exact change); the rest are the
# graph's own bookkeeping or need a flow's explicit request, so a model never runs them.
WRITES = CONFIRMED_WRITES | {
    "update_preferences",
    "subscribe_restock",
    "record_interaction",
    "transfer_to_human",
}


@dataclass(frozen=True)
class Refusal:
    reason: str  # identity_required, other_customer, not_found, not_eligible, ...
    detail: str = ""


# Replies that state a policy decision and must reach the customer word for word: a change
# awaiting yes, a refusal, a write done, an identity request or its outcome, a handoff. The
# LLM mode sends them as the brand's template wrote them (LLMSettings.phrase_policy_replies).
EXACT_REPLY_PREFIXES = (
    "propose_",
    "refuse_",
    "done.",
    "ask_identity",
    "ask_confirmation",
    "identity_",
    "action_cancelled",
    "one_customer_only",
    "human_",
    "handoff_",
)


def exact_by_policy(template_keys: list[str]) -> bool:
    """Does a reply made of these template keys state a policy decision?"""
    return any(key.startswith(EXACT_REPLY_PREFIXES) for key in template_keys)


def delivered_on(order: Order) -> dt.date | None:
    for fulfilment in reversed(order.fulfilments):
        if fulfilment.delivered_at:
            return dt.date.fromisoformat(fulfilment.delivered_at[:10])
    return None


def ordered_on(order: Order) -> dt.date | None:
    return dt.date.fromisoformat(order.created_at[:10]) if order.created_at else None


@dataclass(frozen=True)
class ReturnWindow:
    """How long a delivered order may be returned (Settings.return_window()).

    Many shops' exports carry no delivery date. `undated` decides for a delivered order without
    one: "order_date" counts the window from the order's date (stricter than the delivery date,
    never more generous), "accept" takes the return, "refuse" sends it to a person. An order
    with neither date is sent to a person under "order_date" too: nothing to count from.
    """

    days: int = 30
    undated: Literal["order_date", "accept", "refuse"] = "order_date"

    def start(self, order: Order) -> tuple[dt.date | None, str]:
        """The day the window opened and what it was counted from ("delivered", "ordered")."""
        delivered = delivered_on(order)
        if delivered is not None:
            return delivered, "delivered"
        if self.undated == "order_date":
            return ordered_on(order), "ordered"
        return None, self.undated


def eligibility(tool: str, order: Order, today: dt.date, window: ReturnWindow) -> Refusal | None:
    """Why `tool` may not change `order` now, or None when it may."""
    allowed = ELIGIBLE_STATUS.get(tool)
    if allowed is None:
        return None
    if order.status not in allowed:
        return Refusal("not_eligible", f"order is {order.status}, needs {'/'.join(allowed)}")
    if tool in ("return_items", "exchange_items"):
        start, counted_from = window.start(order)
        if start is None:
            if counted_from == "accept":
                return None
            return Refusal("no_delivery_date", "delivery date unknown")
        if (today - start).days > window.days:
            return Refusal(
                "return_window_passed",
                f"{counted_from} {start.isoformat()}, window {window.days} days",
            )
    return None


def check_call(
    tool: str,
    args: dict[str, Any],
    customer_id: str | None,
    confirmed: dict[str, Any] | None,
    order: Order | None,
    today: dt.date,
    window: ReturnWindow,
    applied: bool = False,
) -> Refusal | None:
    """None when the call may run. `order` is the order named in args, loaded by the caller.
    `applied`: the store already applied this write's idempotency key (a turn finished again
    after a crash): it returns the recorded result, so the order's new status is no refusal."""
    if tool in ACCOUNT_TOOLS and not customer_id:
        return Refusal("identity_required")
    if "customer_id" in args and args["customer_id"] != customer_id:
        return Refusal("other_customer")
    if "order_id" in args and tool in ACCOUNT_TOOLS:
        if order is None or order.customer_id != customer_id:
            return Refusal("not_found")  # never disclose another customer's order
    if tool in CONFIRMED_WRITES:
        if not confirmed or confirmed.get("tool") != tool or confirmed.get("args") != args:
            return Refusal("confirmation_required")
    if order is not None and not applied:
        return eligibility(tool, order, today, window)
    return None
