"""The identity step of the order flows, through the act node over the in-memory store:
details already given are used, verified customers choose from their orders, and failed
attempts get one neutral reply until the thread stops looking anybody up."""

from __future__ import annotations

from typing import Any

import pytest

from supportgraph.context import Deps
from supportgraph.domain.records import ToolCall
from supportgraph.domain.state import ConversationState
from supportgraph.nodes.act import act
from supportgraph.nodes.flows.base import FlowContext, Refused
from supportgraph.nodes.respond import compose
from tests.unit.test_nodes import NOW, fresh_deps, run

LOOKUPS = {"find_customer_by_email", "find_customer_by_name_zip"}


@pytest.fixture
def deps() -> Deps:
    return fresh_deps()  # the demo store in memory, fresh per test


def turn(intent: str, text: str, **fields: Any) -> ConversationState:
    base: dict[str, Any] = {
        "thread_id": "t1",
        "turn": 1,
        "now": NOW,
        "text": text,
        "intent": intent,
        "escalation": {"action": "none", "reason": None, "priority": None},
    }
    return ConversationState(**{**base, **fields})


def after(before: ConversationState, update: dict[str, Any], **next_turn: Any) -> ConversationState:
    """The next turn's state: this turn's update applied, then the next message's fields."""
    values = {**before.as_dict(), **update, **next_turn}
    values["turn"] = before.turn + 1
    return ConversationState(**values)


def names(update: dict[str, Any]) -> list[str]:
    return [ToolCall.model_validate(c).name for c in update["tool_calls"]]


def reply(deps: Deps, state: ConversationState, update: dict[str, Any]) -> str:
    return compose(after(state, update, turn=state.turn), deps.templates, ["en"])


async def test_an_email_in_the_first_message_verifies_and_lists_the_orders(deps: Deps) -> None:
    email = "anna.schmidt@example.com"
    first = turn(
        "order_tracking",
        f"Where is my order? My email is {email}",
        entities={"email": email},
        slots={"email": email},
    )
    update = await act(first, run(deps))
    assert names(update) == ["find_customer_by_email", "list_customer_orders"]
    assert update["customer_id"] == "C1001"
    assert (update["awaiting"], update["active_flow"]) == ("order_id", "order_tracking")
    text = reply(deps, first, update)
    assert "email address" not in text  # not asked again
    # Newest first, each with its date, status and total in the store's currency.
    assert text.index("SG-10001") < text.index("SG-10002") < text.index("SG-10003")
    assert "SG-10001 (placed November 19, 2026, pending, €79.00)" in text
    assert "SG-10003 (placed November 5, 2026, delivered, €89.90)" in text


async def test_the_one_order_that_fits_the_request_is_used_without_asking(deps: Deps) -> None:
    # Carlos has a delivered and a pending order: only the pending one can be cancelled.
    email = "carlos.garcia@example.com"
    update = await act(
        turn("order_modification", f"cancel my order please, {email}", slots={"email": email}),
        run(deps),
    )
    assert names(update) == ["find_customer_by_email", "list_customer_orders", "get_order_details"]
    assert update["pending_action"]["args"]["order_id"] == "SG-10005"
    assert update["awaiting"] == "confirmation"


async def test_without_an_order_number_the_customer_is_verified_then_shown_their_orders(
    deps: Deps,
) -> None:
    # "I don't have the order number" while it was awaited (understand marks no_reference).
    asked = turn(
        "order_tracking",
        "I don't have the order number",
        entities={"no_reference": True},
        slots={"no_reference": True},
        awaiting="order_id",
        active_flow="order_tracking",
    )
    update = await act(asked, run(deps))
    assert update["tool_calls"] == []
    assert [s["key"] for s in update["say"]] == ["ask_identity"]
    assert update["awaiting"] == "email"
    email = "anna.schmidt@example.com"
    answered = after(
        asked,
        update,
        text=email,
        entities={"email": email},
        slots={**update["slots"], "email": email},
    )
    update = await act(answered, run(deps))
    assert names(update) == ["find_customer_by_email", "list_customer_orders"]
    assert [s["key"] for s in update["say"]] == ["identity_verified", "choose_order"]
    assert "no_reference" not in update["slots"]


async def test_a_customer_without_orders_is_told_so(deps: Deps) -> None:
    email = "laura.becker@example.com"
    update = await act(
        turn("order_tracking", f"where is my order? {email}", slots={"email": email}), run(deps)
    )
    assert [s["key"] for s in update["say"]] == ["identity_verified", "no_orders"]
    assert update["awaiting"] is None


async def test_a_known_email_with_someone_elses_order_reads_like_an_unknown_email(
    deps: Deps,
) -> None:
    replies = []
    for email in ("james.wilson@example.com", "nobody.here@example.com"):
        state = turn(
            "order_tracking",
            email,
            entities={"email": email},
            slots={"order_id": "SG-10002", "email": email},
            awaiting="email",
            active_flow="order_tracking",
        )
        update = await act(state, run(deps))
        assert update.get("customer_id") is None  # James is not verified by Anna's order
        assert update["identity_failures"] == 1
        replies.append(reply(deps, state, update))
    assert replies[0] == replies[1]
    assert "couldn't verify those details for order SG-10002" in replies[0]
    assert "James" not in replies[0]


async def test_after_the_allowed_failures_nothing_is_looked_up_and_a_person_is_offered(
    deps: Deps,
) -> None:
    limit = deps.settings.identity_attempts
    state = turn("order_tracking", "", slots={"order_id": "SG-10002"}, awaiting="email")
    for attempt in range(1, limit + 1):
        email = f"guess{attempt}@example.com"
        state = after(state, {}, text=email, slots={**state.slots, "email": email})
        update = await act(state, run(deps))
        assert names(update) == ["find_customer_by_email"]
        state = after(state, update)
    assert state.identity_failures == limit
    assert [s["key"] for s in state.say] == ["identity_locked"]
    assert state.escalation == {
        "action": "offer",
        "reason": "identity_attempts",
        "priority": "medium",
    }
    assert "connect you with a member of our team" in compose(state, deps.templates, ["en"])

    # The right email now changes nothing: no lookup at all, the same answer.
    right = "anna.schmidt@example.com"
    state = after(
        state, {}, text=right, entities={"email": right}, slots={**state.slots, "email": right}
    )
    update = await act(state, run(deps))
    assert update["tool_calls"] == [] and update.get("customer_id") is None
    assert [s["key"] for s in update["say"]] == ["identity_locked"]

    # Nor may anything else (a model's proposal) look a customer up in this thread.
    ctx = FlowContext(state=after(state, update), deps=deps, slots={})
    with pytest.raises(Refused, match="identity_attempts_exhausted"):
        await ctx.call_tool("find_customer_by_email", {"email": right})
    assert [(c.name, c.ok) for c in ctx.tool_calls] == [("find_customer_by_email", False)]


async def test_the_same_failed_details_again_spend_no_attempt(deps: Deps) -> None:
    email = "nobody.here@example.com"
    state = turn("order_tracking", email, slots={"order_id": "SG-10002", "email": email})
    first = await act(state, run(deps))
    again = await act(after(state, first, text="hello?"), run(deps))
    assert again["tool_calls"] == []
    assert again.get("identity_failures", 1) == 1
    assert again["say"] == first["say"]


async def test_a_corrected_order_number_retries_with_the_email_already_given(deps: Deps) -> None:
    email = "anna.schmidt@example.com"
    state = turn("order_tracking", email, slots={"order_id": "SG-10004", "email": email})
    failed = await act(state, run(deps))
    assert failed.get("customer_id") is None
    corrected = after(
        state,
        failed,
        text="sorry, it's SG-10002",
        slots={**failed["slots"], "order_id": "SG-10002"},
    )
    update = await act(corrected, run(deps))
    assert update["customer_id"] == "C1001"
    assert "track_shipment" in names(update)
