"""The policy guard's decisions (domain/policy.py): identity before account data, one
customer per conversation, another customer's order is "not found", writes only when the
exact change was confirmed and the order is eligible now."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from supportgraph.domain.policy import ACCOUNT_TOOLS, ReturnWindow, check_call, eligibility
from supportgraph.domain.schema import Fulfilment, Order

TODAY = dt.date(2026, 5, 31)
WINDOW = ReturnWindow(30)


def an_order(
    status: str = "pending",
    customer: str = "C1",
    delivered: str | None = None,
    created: str | None = None,
) -> Order:
    return Order(
        id="SG-1",
        customer_id=customer,
        status=status,  # type: ignore[arg-type]
        fulfilments=[Fulfilment(carrier="DHL", delivered_at=delivered)] if delivered else [],
        created_at=created,
    )


def decide(
    tool: str,
    args: dict[str, Any],
    *,
    customer: str | None = "C1",
    confirmed: dict[str, Any] | None = None,
    order: Order | None = None,
    applied: bool = False,
) -> str | None:
    refusal = check_call(tool, args, customer, confirmed, order, TODAY, WINDOW, applied)
    return refusal.reason if refusal else None


def confirmed(tool: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"tool": tool, "args": dict(args)}


@pytest.mark.parametrize("tool", sorted(ACCOUNT_TOOLS))
def test_account_tools_need_a_verified_customer(tool: str) -> None:
    assert decide(tool, {}, customer=None) == "identity_required"


@pytest.mark.parametrize("tool", ["search_products", "check_stock", "get_product_details"])
def test_catalogue_questions_need_no_identity(tool: str) -> None:
    assert decide(tool, {"product_id": "P1"}, customer=None) is None


def test_a_call_about_another_customer_is_refused() -> None:
    assert decide("get_customer_profile", {"customer_id": "C2"}) == "other_customer"
    assert decide("get_customer_profile", {"customer_id": "C1"}) is None


def test_another_customers_order_is_not_found() -> None:
    args = {"order_id": "SG-1"}
    assert decide("get_order_details", args, order=an_order(customer="C2")) == "not_found"
    assert decide("get_order_details", args, order=None) == "not_found"
    assert decide("get_order_details", args, order=an_order()) is None


def test_identity_is_checked_before_ownership() -> None:
    # An anonymous caller learns nothing, not even whether the order exists.
    assert decide("get_order_details", {"order_id": "SG-1"}, customer=None, order=an_order()) == (
        "identity_required"
    )


def test_a_write_needs_the_exact_change_confirmed() -> None:
    args = {"order_id": "SG-1", "reason": "changed my mind"}
    order = an_order()
    assert decide("cancel_order", args, order=order) == "confirmation_required"
    other_args = confirmed("cancel_order", {**args, "reason": "other"})
    assert decide("cancel_order", args, confirmed=other_args, order=order) == (
        "confirmation_required"
    )
    other_tool = confirmed("modify_order_address", args)
    assert decide("cancel_order", args, confirmed=other_tool, order=order) == (
        "confirmation_required"
    )
    assert (
        decide("cancel_order", args, confirmed=confirmed("cancel_order", args), order=order) is None
    )


def test_a_confirmed_write_on_an_ineligible_order_is_refused() -> None:
    args = {"order_id": "SG-1", "reason": ""}
    shipped = an_order("shipped")
    assert decide(
        "cancel_order", args, confirmed=confirmed("cancel_order", args), order=shipped
    ) == ("not_eligible")


def test_a_write_already_applied_is_let_through_to_replay_its_result() -> None:
    # After a crash the turn runs again: the order is already cancelled by this very key,
    # and the store answers with the first result instead of writing twice.
    args = {"order_id": "SG-1", "reason": ""}
    cancelled = an_order("cancelled")
    call = confirmed("cancel_order", args)
    assert decide("cancel_order", args, confirmed=call, order=cancelled) == "not_eligible"
    assert decide("cancel_order", args, confirmed=call, order=cancelled, applied=True) is None


def test_an_applied_key_does_not_skip_identity_or_ownership() -> None:
    args = {"order_id": "SG-1", "reason": ""}
    call = confirmed("cancel_order", args)
    theirs = an_order("cancelled", customer="C2")
    assert decide("cancel_order", args, confirmed=call, order=theirs, applied=True) == "not_found"
    assert decide("cancel_order", args, customer=None, applied=True) == "identity_required"


@pytest.mark.parametrize(
    ("delivered", "reason"),
    [
        ("2026-05-01T09:00:00+00:00", None),  # 30 days ago: the last day of the window
        ("2026-04-30T09:00:00+00:00", "return_window_passed"),  # 31 days
        (None, "no_delivery_date"),  # and no order date either: nothing to count from
    ],
)
def test_returns_and_exchanges_follow_the_return_window(
    delivered: str | None, reason: str | None
) -> None:
    order = an_order("delivered", delivered=delivered)
    for tool in ("return_items", "exchange_items"):
        refusal = eligibility(tool, order, TODAY, WINDOW)
        assert (refusal.reason if refusal else None) == reason


def test_the_window_counts_from_the_last_delivery() -> None:
    order = an_order("delivered", delivered="2026-03-01T00:00:00+00:00")
    order.fulfilments.append(Fulfilment(delivered_at="2026-05-20T00:00:00+00:00"))
    assert eligibility("return_items", order, TODAY, WINDOW) is None


def test_eligibility_names_the_status_needed() -> None:
    refusal = eligibility("return_items", an_order("shipped"), TODAY, WINDOW)
    assert refusal is not None and refusal.reason == "not_eligible"
    assert refusal.detail == "order is shipped, needs delivered"
    assert eligibility("get_order_details", an_order("shipped"), TODAY, WINDOW) is None


@pytest.mark.parametrize(
    ("undated", "created", "reason"),
    [
        # A shop whose export has no delivery dates: the window counts from the order date.
        ("order_date", "2026-05-10T12:00:00+00:00", None),
        ("order_date", "2026-04-01T12:00:00+00:00", "return_window_passed"),
        ("accept", None, None),
        ("refuse", "2026-05-30T12:00:00+00:00", "no_delivery_date"),
    ],
)
def test_a_delivered_order_without_a_delivery_date_follows_the_configured_rule(
    undated: str, created: str | None, reason: str | None
) -> None:
    order = an_order("delivered", created=created)
    refusal = eligibility("return_items", order, TODAY, ReturnWindow(30, undated))  # type: ignore[arg-type]
    assert (refusal.reason if refusal else None) == reason
    if reason == "return_window_passed":
        assert refusal is not None and refusal.detail.startswith("ordered 2026-04-01")
