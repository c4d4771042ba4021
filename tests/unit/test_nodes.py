"""Nodes called directly, as the graph calls them: a state in, an update out, with Deps over
the in-memory store (no SQLite, no checkpoints, no models)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from langgraph.runtime import Runtime

from supportgraph.backends.loader import load_store_file
from supportgraph.backends.memory import InMemoryStore
from supportgraph.config import Settings
from supportgraph.context import Deps, MissingContext, deps_of
from supportgraph.domain.records import ToolCall
from supportgraph.domain.schema import Store
from supportgraph.domain.state import ConversationState
from supportgraph.nlu.entities import Catalogue
from supportgraph.nodes.act import act
from supportgraph.nodes.escalate import escalate
from supportgraph.nodes.respond import compose, respond
from supportgraph.templates import Templates

NOW = 1_795_000_000.0  # 2026-11-18: order SG-10003 is within the return window


@cache
def demo() -> tuple[Settings, Store, Catalogue, Templates]:
    """The demo brand, loaded once: every test's store starts as a deep copy of it."""
    settings = Settings()
    store = load_store_file(settings.resolved_store_path())
    products = InMemoryStore(store).all_products()
    templates = Templates.for_brand(settings.brand_dir)
    return settings, store, Catalogue.from_products(products), templates


@pytest.fixture
def deps() -> Deps:
    """A fresh in-memory store per test: writes of one test never leak into another."""
    return fresh_deps()


def fresh_deps() -> Deps:
    settings, store, catalogue, templates = demo()
    return Deps(
        settings=settings,
        store=InMemoryStore(store),
        catalogue=catalogue,
        templates=templates,
        clock=lambda: NOW,
    )


def run(deps: Deps) -> Runtime[Deps]:
    return Runtime(context=deps)


def state(intent: str, text: str = "", **fields: Any) -> ConversationState:
    base: dict[str, Any] = {
        "thread_id": "t1",
        "turn": 3,
        "now": NOW,
        "text": text,
        "intent": intent,
        "escalation": {"action": "none", "reason": None, "priority": None},
    }
    return ConversationState(**{**base, **fields})


def calls(update: dict[str, Any]) -> list[ToolCall]:
    return [ToolCall.model_validate(c) for c in update["tool_calls"]]


async def test_an_order_question_of_an_unverified_customer_asks_who_they_are(deps: Deps) -> None:
    update = await act(
        state("order_tracking", "where is SG-10002", slots={"order_id": "SG-10002"}), run(deps)
    )
    assert update["say"] == [{"key": "ask_identity", "params": {}}]
    assert (update["awaiting"], update["active_flow"]) == ("email", "order_tracking")
    assert update["tool_calls"] == []  # nothing was looked up before identity


async def test_a_verified_customer_gets_the_order_status(deps: Deps) -> None:
    update = await act(
        state(
            "order_tracking",
            "SG-10002",
            slots={"order_id": "SG-10002"},
            customer_id="C1001",
        ),
        run(deps),
    )
    assert [c.name for c in calls(update)] == ["get_order_details", "track_shipment"]
    assert all(c.ok for c in calls(update))
    assert update["say"][0]["key"].startswith("order_status_shipped")
    assert update["awaiting"] is None


async def test_another_customers_order_is_refused_as_not_found(deps: Deps) -> None:
    update = await act(
        state(
            "order_tracking",
            "SG-10004",
            slots={"order_id": "SG-10004"},  # Carlos's order
            customer_id="C1001",
        ),
        run(deps),
    )
    refused = calls(update)[0]
    assert (refused.name, refused.ok) == ("get_order_details", False)
    assert refused.result_summary == "refused by policy: not_found"
    assert update["say"][0]["key"] == "order_not_found"


async def test_a_confirmed_cancellation_runs_once_through_the_guard(deps: Deps) -> None:
    args = {"order_id": "SG-10001", "reason": "customer request", "key": "t1:2:cancel_order"}
    pending = {
        "tool": "cancel_order",
        "args": args,
        "done": "done.cancel_order",
        "params": {"order_id": "SG-10001"},
        "flow": "order_modification",
    }
    update = await act(
        state(
            "order_modification",
            "yes",
            entities={"confirmed": True},
            awaiting="confirmation",
            pending_action=pending,
            customer_id="C1001",
        ),
        run(deps),
    )
    assert [(c.name, c.ok) for c in calls(update)] == [
        ("cancel_order", True),
        ("record_interaction", True),
    ]
    assert update["pending_action"] is None
    order = await deps.store.get_order("SG-10001")
    assert order is not None and order.status == "cancelled"


async def test_a_no_cancels_the_proposal_and_changes_nothing(deps: Deps) -> None:
    pending = {
        "tool": "cancel_order",
        "args": {"order_id": "SG-10001", "reason": "customer request", "key": "k"},
        "done": "done.cancel_order",
        "params": {},
        "flow": "order_modification",
    }
    update = await act(
        state(
            "order_modification",
            "no",
            entities={"confirmed": False},
            awaiting="confirmation",
            pending_action=pending,
            customer_id="C1001",
        ),
        run(deps),
    )
    assert update["say"] == [{"key": "action_cancelled", "params": {}}]
    assert update["tool_calls"] == []
    order = await deps.store.get_order("SG-10001")
    assert order is not None and order.status == "pending"


async def test_a_handoff_logs_the_transfer_as_a_guarded_recorded_tool_call(deps: Deps) -> None:
    update = await escalate(
        state("human_agent", "I want to talk to a human", slots={"order_id": "SG-10002"}),
        run(deps),
    )
    assert update["escalation"]["action"] == "handoff"
    [transfer] = calls(update)
    assert (transfer.name, transfer.ok, transfer.result_summary) == (
        "transfer_to_human",
        True,
        "transferred",
    )
    assert transfer.args["key"] == "t1:3:transfer"
    assert transfer.args["priority"] == "high"
    assert await deps.store.write_applied("t1:3:transfer")  # the CRM has it


async def test_a_failing_crm_log_is_recorded_and_the_handoff_still_happens(deps: Deps) -> None:
    class DownCrm(InMemoryStore):
        async def record_interaction(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("CRM unreachable")

    down = deps.with_store(DownCrm(demo()[1]))
    update = await escalate(state("human_agent", "a person please"), run(down))
    assert update["escalation"]["action"] == "handoff"
    [transfer] = calls(update)
    assert (transfer.name, transfer.ok) == ("transfer_to_human", False)
    assert "CRM unreachable" in transfer.result_summary


async def test_a_thread_already_with_a_human_is_not_transferred_again(deps: Deps) -> None:
    update = await escalate(
        state("order_tracking", "hello?", escalation_status="human_active"), run(deps)
    )
    assert update["escalation"]["action"] == "handoff"
    assert "tool_calls" not in update


async def test_chat_only_intents_reply_with_their_catalogue_template(deps: Deps) -> None:
    langs = deps.settings.reply_languages
    hello = compose(state("greeting", "hi"), deps.templates, langs)
    assert hello == deps.templates.render("greeting", "en")
    bye = compose(state("thanks_goodbye", "thanks", reply_language="de"), deps.templates, langs)
    assert bye == deps.templates.render("goodbye", "de")
    unclear = compose(state("order_tracking", "hm"), deps.templates, langs)
    assert unclear == deps.templates.render("fallback_clarify", "en")


async def test_respond_turns_an_offer_into_an_awaited_answer(deps: Deps) -> None:
    offer = {"action": "offer", "reason": "low_confidence", "priority": "medium"}
    update = await respond(state("general_inquiry", "blorp", escalation=offer), run(deps))
    assert update["awaiting"] == "handoff_offer"
    assert update["reply"].endswith(deps.templates.render("offer_human", "en"))
    assert update["messages"] == [{"role": "bot", "text": update["reply"], "turn": 3}]


def test_a_node_run_without_deps_fails_loudly() -> None:
    with pytest.raises(MissingContext):
        deps_of(Runtime(context=None))


async def test_understand_gives_the_order_id_as_the_store_spells_it(deps: Deps) -> None:
    from supportgraph.nodes.understand import understand

    update = await understand(
        state("greeting", "hi, any news on sg10002?", language="en"), run(deps)
    )
    assert update["entities"]["order_id"] == "SG-10002"
    unknown = await understand(state("greeting", "where is w1234567?", language="en"), run(deps))
    assert unknown["entities"]["order_id"] == "W1234567"  # as typed: not the store's, no rewrite


async def test_a_message_naming_the_shops_product_is_never_out_of_scope(deps: Deps) -> None:
    from supportgraph.nodes.understand import understand

    update = await understand(
        state("greeting", "Tell me about the Merino Wool Sweater", language="en"), run(deps)
    )
    assert update["intent"] == "product_inquiry"
    assert update["entities"]["product_id"] == "P2002"


async def test_a_short_follow_up_continues_the_topic_it_belongs_to(deps: Deps) -> None:
    from supportgraph.nodes.understand import understand

    update = await understand(state("shipping", "ok and to Spain?", language="en"), run(deps))
    assert update["intent"] == "shipping"
    off_topic = await understand(
        state("shipping", "can you book me a hotel in lisbon for friday", language="en"),
        run(deps),
    )
    assert off_topic["intent"] == "out_of_scope"


async def test_someone_elses_agent_is_no_request_for_a_person(deps: Deps) -> None:
    from supportgraph.nodes.understand import understand

    for text, intent in [
        ("can you recommend a good travel agent", "out_of_scope"),
        ("mi agente inmobiliario no contesta", "out_of_scope"),
        ("I want to talk to a human agent", "human_agent"),
    ]:
        update = await understand(state("greeting", text, language="en"), run(deps))
        assert update["intent"] == intent, text


async def test_another_companys_order_is_not_ours_to_handle(deps: Deps) -> None:
    from supportgraph.nodes.understand import understand

    for text, intent in [
        ("my amazon parcel is two days late", "out_of_scope"),
        ("quiero devolver algo que compré en zalando", "out_of_scope"),
        ("do you price match amazon?", "pricing"),
        ("where is my order SG-10002? I also ordered from ebay", "order_tracking"),
    ]:
        update = await understand(state("greeting", text, language="en"), run(deps))
        assert update["intent"] == intent, text
