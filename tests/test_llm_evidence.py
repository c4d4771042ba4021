"""Model output is evidence, never authority: a scripted model makes exactly the mistakes a
real small model made (issue 15) and the graph's decisions stay those of the offline path.

The fake answers whole conversations (tests/llm_fake.py shop_model); `mistaken` bends its
understanding answers the way Qwen2.5-0.5B did: an invented order id, a redaction placeholder
echoed as an order id, sentiment -1.0 for a calm message.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import supportgraph
from supportgraph import SupportAgent
from supportgraph.backends.sqlite import SqliteStore
from supportgraph.domain.intents import INTENT_NAMES
from supportgraph.domain.policy import ACCOUNT_TOOLS
from supportgraph.llm.evidence import combined_sentiment, grounded_entities
from tests.llm_fake import FakeLLM, Reply, request_kind, shop_model
from tests.test_llm_agent import layer, llm_settings

EMAIL = "anna.schmidt@example.com"


def mistaken(**wrong: Any) -> Callable[[dict[str, Any]], Reply]:
    """shop_model, with these values forced into every understanding answer."""

    def respond(body: dict[str, Any]) -> Reply:
        reply = shop_model(body)
        if request_kind(body) != "understanding":
            return reply
        if reply.tool_calls:
            arguments = {**reply.tool_calls[0]["arguments"], **wrong}
            return Reply(tool_calls=[{**reply.tool_calls[0], "arguments": arguments}])
        return Reply(content=json.dumps({**json.loads(reply.content or "{}"), **wrong}))

    return respond


# Both ways an operator may run the LLM mode: the default cascade (the model reads only what
# the offline reading is unsure of) and every message read by the model.
MODES = {
    "cascade": {"consult_below": 0.85, "phrase_policy_replies": False},
    "every_call": {"consult_below": 1.0, "phrase_policy_replies": True},
}


@pytest.fixture(params=sorted(MODES))
async def agent(
    request: pytest.FixtureRequest, fake_llm_server: FakeLLM, tmp_path: Path, data_dir: Path
) -> AsyncIterator[SupportAgent]:
    fake_llm_server.reset()
    settings = llm_settings(
        tmp_path,
        data_dir,
        primary=layer(fake_llm_server.url, max_retries=0),
        **MODES[request.param],
    )
    async with SupportAgent.open(settings) as opened:
        yield opened


async def test_an_invented_order_id_never_fills_the_awaited_slot(
    agent: SupportAgent, fake_llm_server: FakeLLM
) -> None:
    fake_llm_server.responder = mistaken(entities={"order_id": "1234567890"})
    asked = await agent.send("t", "Where is my order?")
    assert asked.awaiting == "order_id"
    record = await agent.send("t", "I want to return my shoes")
    assert "order_id" not in record.entities
    assert not any(c.name == "get_order_details" for c in record.tool_calls)
    assert "1234567890" not in record.reply


async def test_an_echoed_placeholder_never_overrides_a_request_for_a_person(
    agent: SupportAgent, fake_llm_server: FakeLLM
) -> None:
    fake_llm_server.responder = mistaken(entities={"order_id": "PHONE_1"})
    await agent.send("t", "Where is my order?")
    record = await agent.send("t", "Can I talk to a person?")
    assert record.intent == "human_agent" and "order_id" not in record.entities
    assert record.escalation.action == "handoff"


async def test_a_model_calling_a_calm_customer_furious_hands_nobody_over(
    agent: SupportAgent, fake_llm_server: FakeLLM
) -> None:
    fake_llm_server.responder = mistaken(sentiment=-1.0)
    await agent.send("t", "Where is my order?")
    record = await agent.send("t", "SG-10002")
    assert record.escalation.action == "none"
    assert record.sentiment > -0.6
    assert record.awaiting == "email"


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["order_id", "email", "name", "zip", "size", "colour", "quantity"]),
        st.one_of(st.text(max_size=20), st.integers(0, 10**9)),
    ),
    st.text(max_size=60),
)
def test_whatever_the_model_returns_only_the_customers_own_words_are_entities(
    model: dict[str, Any], text: str
) -> None:
    kept = grounded_entities(model, text)
    for key, value in kept.items():
        compact = "".join(ch for ch in text.upper() if ch.isalnum())
        if key == "order_id":
            assert "".join(ch for ch in str(value).upper() if ch.isalnum()) in compact
        elif key == "email":
            assert str(value).lower() in text.lower()


@given(st.floats(-1, 1), st.floats(-1, 1))
def test_the_models_sentiment_is_never_more_negative_than_the_offline_reading_allows(
    offline: float, model: float
) -> None:
    combined = combined_sentiment(offline, model)
    assert abs(combined) <= abs(offline)
    assert combined == offline or (combined > 0) == (offline > 0)


async def test_a_models_intent_alone_never_hands_a_customer_over(
    agent: SupportAgent, fake_llm_server: FakeLLM
) -> None:
    fake_llm_server.responder = mistaken(intent="human_agent", sentiment=-1.0)
    record = await agent.send("t", "is it possible to change something")
    assert record.escalation.action != "handoff" and record.intent != "human_agent"


# Tempting mistakes: another customer's order and email, invented ids, echoed placeholders.
WRONG_VALUES = {
    "order_id": ["SG-10003", "SG-10005", "1234567890", "PHONE_1", "[ORDER_1]"],
    "email": ["anna.schmidt@example.com", "[EMAIL_1]", "someone@example.com"],
    "name": ["Anna Schmidt", "NAME_1"],
    "zip": ["10115", "ZIP_1"],
    "confirmed": [True, "yes"],
}


def order_secrets() -> set[str]:
    """What only an order's verified owner may read: tracking numbers, addresses, payment
    methods, contact details (the knowledge base names carriers and prices; that is public)."""
    store = json.loads((Path(supportgraph.__file__).parent / "brands/demo/store.json").read_text())
    found: set[str] = set()
    for customer in store["customers"]:
        found |= {customer["email"], customer["phone"], customer["address"]["line1"]}
        found |= {method["label"] for method in customer["payment_methods"]}
    for order in store["orders"]:
        found.add(order["shipping_address"]["line1"])
        found |= {f.get("tracking_number", "") for f in order["fulfilments"]} - {"", None}
    return found


ORDER_SECRETS = order_secrets()
UNVERIFIED_CONVERSATION = [
    "Where is my order?",
    "is it possible to change something",
    "the parcel",
    "SG-10002",
    "yes",
]


def random_answer(rng: random.Random) -> dict[str, Any]:
    keys = rng.sample(sorted(WRONG_VALUES), rng.randint(0, 3))
    return {
        "intent": rng.choice(INTENT_NAMES),
        "entities": {key: rng.choice(WRONG_VALUES[key]) for key in keys},
        "sentiment": rng.uniform(-1, 1),
    }


async def test_whatever_the_model_answers_nothing_is_written_or_disclosed_or_escalated(
    agent: SupportAgent, fake_llm_server: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    """A property over 30 random conversations (seeded): a customer who never proves who
    they are, whatever the model reads into their messages, gets no order data, no change to
    any order, and exactly the escalation decisions the offline path makes."""
    async with SupportAgent.open(llm_settings(tmp_path / "offline", data_dir)) as offline:
        expected = [
            (await offline.send("p", text)).escalation.action for text in UNVERIFIED_CONVERSATION
        ]
    assert "DHL4019283746" in ORDER_SECRETS and "Kastanienallee 21" in ORDER_SECRETS
    rng = random.Random(15)
    for example in range(30):
        fake_llm_server.responder = mistaken(**random_answer(rng))
        records = [await agent.send(f"p{example}", text) for text in UNVERIFIED_CONVERSATION]
        assert [r.escalation.action for r in records] == expected, example
        for record in records:
            assert not record.verified_customer
            assert not any(c.ok and c.name in ACCOUNT_TOOLS for c in record.tool_calls)
            for secret in ORDER_SECRETS:
                assert secret not in record.reply, (example, secret, record.reply)
    store = agent.store
    assert isinstance(store, SqliteStore) and store.writes_log() == []
