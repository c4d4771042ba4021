"""The LLM mode's economy, over real HTTP against the fake server: the cascade (a model call
only where the offline reading is unsure), policy replies sent as written, one prompt prefix
for every call, the answer-length cap in the form local servers honour, deadlines learned
from latency inside a turn deadline, abandoned requests closed, true token counts and cost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from supportgraph import SupportAgent
from supportgraph.llm.client import ModelClient
from supportgraph.llm.failures import ModelFailure
from supportgraph.llm.latency import FLOOR_S, LatencyBook, TurnBudget
from supportgraph.llm.prompts import SHOP_PREFIX
from supportgraph.llm.settings import ModelSettings
from tests.llm_fake import MODEL_VOICE, FakeLLM, Reply, request_kind, shop_model
from tests.test_llm_agent import layer, llm_settings

EMAIL = "anna.schmidt@example.com"
DEFAULTS = {"consult_below": 0.85, "phrase_policy_replies": False, "turn_deadline_s": 8.0}


def conversation_requests(fake: FakeLLM) -> list[str]:
    """The kinds of the requests a conversation made (the start-up probe left out)."""
    return [request_kind(r) for r in fake.requests if len(r["messages"]) > 1]


@pytest.fixture
async def agent(fake: FakeLLM, tmp_path: Path, data_dir: Path) -> AsyncIterator[SupportAgent]:
    fake.responder = shop_model
    settings = llm_settings(
        tmp_path,
        data_dir,
        primary=layer(fake.url, max_retries=0),
        prices={"shop-model": {"input_per_mtok": 2.0, "output_per_mtok": 8.0}},
        **DEFAULTS,
    )
    async with SupportAgent.open(settings) as opened:
        yield opened


async def test_a_clear_conversation_costs_no_model_call(agent: SupportAgent, fake: FakeLLM) -> None:
    records = [
        await agent.send("c", "I want to cancel my order SG-10001"),
        await agent.send("c", EMAIL),
        await agent.send("c", "yes"),
    ]
    # Understood by the classifier and the rules; an identity request, a change to confirm
    # and a done cancellation are policy, sent as the brand wrote them.
    assert conversation_requests(fake) == []
    assert [r.awaiting for r in records] == ["email", "confirmation", None]
    assert [c.name for c in records[2].tool_calls][:1] == ["cancel_order"]
    assert all(r.llm_calls == 0 and r.tokens_in == 0 for r in records)
    assert not any(r.reply.startswith(MODEL_VOICE) for r in records)


async def test_an_unsure_message_is_read_by_the_model_and_an_answer_is_worded(
    agent: SupportAgent, fake: FakeLLM
) -> None:
    unsure = await agent.send("u", "is it possible to change something")
    assert conversation_requests(fake)[0] == "understanding"
    assert unsure.llm_calls >= 1 and unsure.tokens_in > 0
    fake.requests.clear()
    answer = await agent.send("k", "How long does shipping to France take?")
    assert conversation_requests(fake) == ["phrasing"]  # confident: read offline, worded by it
    assert answer.reply.startswith(MODEL_VOICE) and answer.llm_calls == 1
    expected = (answer.tokens_in * 2.0 + answer.tokens_out * 8.0) / 1e6
    assert answer.cost == pytest.approx(expected) and answer.cost > 0


async def test_understanding_and_phrasing_share_one_prompt_prefix(
    fake: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    fake.responder = shop_model
    settings = llm_settings(tmp_path, data_dir, primary=layer(fake.url, max_retries=0))
    async with SupportAgent.open(settings) as every_call:
        await every_call.send("p", "How long does shipping to France take?")
    systems = {
        request_kind(r): r["messages"][0]["content"]
        for r in fake.requests
        if len(r["messages"]) > 1
    }
    assert set(systems) == {"understanding", "phrasing"}
    assert len(SHOP_PREFIX) > 800  # the intents and rules: most of each prompt
    assert all(system.startswith(SHOP_PREFIX) for system in systems.values())


async def test_the_length_cap_is_sent_the_way_the_server_honours_it(fake: FakeLLM) -> None:
    fake.responder = shop_model
    local = ModelClient("primary", ModelSettings(**layer(fake.url)))
    await local.complete([_user("hi"), _user("there")], max_tokens=50)
    body = fake.requests[-1]
    assert body["max_tokens"] == 50 and "max_completion_tokens" not in body
    hosted = ModelClient("primary", ModelSettings(**layer("https://api.openai.com/v1")))
    assert hosted.length_cap(50) == {"extra_body": {"max_completion_tokens": 50}}


async def test_the_turn_deadline_answers_offline_and_closes_the_models_request(
    fake: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    def slow_phrasing(body: dict[str, Any]) -> Reply:
        reply = shop_model(body)
        if request_kind(body) == "phrasing" and len(body["messages"]) > 1:
            reply.delay_s = 6.0
        return reply

    fake.responder = slow_phrasing
    settings = llm_settings(
        tmp_path,
        data_dir,
        primary=layer(fake.url, max_retries=0, timeout_s=30),
        **{**DEFAULTS, "turn_deadline_s": 1.5},
    )
    async with SupportAgent.open(settings) as agent:
        # Models and the KB's embedding loaded: the clock below is the turn's own.
        await agent.send("warm", "Which payment methods do you accept?")
        started = time.monotonic()
        record = await agent.send("d", "How long does shipping to France take?")
        elapsed = time.monotonic() - started
    # The model would take 6 s; the turn ends at the 1.5 s deadline (slack: two busy cores).
    assert elapsed < 4.5, elapsed
    assert record.model == "offline" and "primary: turn_deadline" in (record.fallback or "")
    assert record.reply and not record.reply.startswith(MODEL_VOICE)  # the template's answer
    for _ in range(50):  # the server learns of the closed connection shortly after
        if fake.abandoned:
            break
        await asyncio.sleep(0.05)
    assert fake.abandoned >= 1


async def test_a_call_that_cannot_finish_in_time_is_not_started(fake: FakeLLM) -> None:
    fake.responder = shop_model
    client = ModelClient("primary", ModelSettings(**layer(fake.url)))
    for _ in range(3):
        client.latency.observe(f"text|{client.endpoint_key}", 5.0)  # it usually takes 5 s
    with pytest.raises(ModelFailure) as failed:
        await client.complete([_user("hi")], budget=TurnBudget(time.time() + 2.0))
    assert failed.value.reason == "turn_deadline" and failed.value.usage.calls == 0
    assert fake.requests == []
    assert client.breaker.consecutive_failures == 0  # the endpoint did nothing wrong


async def test_a_retry_is_made_only_when_it_can_finish_in_time(fake: FakeLLM) -> None:
    now = [1000.0]

    async def backoff(seconds: float) -> None:
        now[0] += 2.5  # the backoff (and the failed attempt) used up most of the turn

    fake.script(Reply(status=503), Reply(content="fine"))
    client = ModelClient(
        "primary",
        ModelSettings(**layer(fake.url, max_retries=2, backoff_s=0.01)),
        sleep=backoff,
    )
    for _ in range(3):
        client.latency.observe(f"text|{client.endpoint_key}", 1.0)
    budget = TurnBudget(now[0] + 3.0, clock=lambda: now[0])
    with pytest.raises(ModelFailure) as failed:
        await client.complete([_user("hi")], budget=budget)
    assert failed.value.reason == "turn_deadline" and failed.value.usage.calls == 1
    assert len(fake.requests) == 1  # the 503; the retry would not have fit
    # With time enough, the same failure is retried and answered.
    fake.replies.clear()
    fake.script(Reply(status=503), Reply(content="fine"))
    answer = await client.complete([_user("hi")], budget=TurnBudget(now[0] + 60, lambda: now[0]))
    assert answer.value == "fine" and answer.usage.calls == 2


def test_deadlines_are_learned_from_latency_under_a_ceiling() -> None:
    book = LatencyBook()
    assert book.deadline("k", 20.0) == 20.0  # nothing seen yet: the ceiling
    for seconds in (0.4, 0.5, 0.6, 0.5):
        book.observe("k", seconds)
    assert book.deadline("k", 20.0) == FLOOR_S  # fast endpoint: the floor, not 20 s
    for seconds in (6.0, 7.0, 8.0, 9.0, 9.0, 9.0):
        book.observe("k", seconds)
    assert book.deadline("k", 20.0) == 18.0  # twice the recent slow calls
    assert book.deadline("k", 10.0) == 10.0  # never above the ceiling
    assert book.typical("k") == pytest.approx(6.5)  # the median of the ten calls seen


async def test_streamed_usage_is_counted_by_the_servers_tokenizer(fake: FakeLLM) -> None:
    fake.stream_usage = False  # llama-cpp-python: no usage in streams
    fake.tokenizer = True
    fake.script(Reply(content="Your parcel left today."), Reply(content="Your parcel left today."))
    client = ModelClient("primary", ModelSettings(**layer(fake.url)))
    counted = await client.stream([_user("where is my parcel")], lambda text: None)
    assert counted.usage.tokens_out == 4  # the fake's tokenizer counts words
    assert counted.usage.tokens_in > 4
    fake.tokenizer = False  # no tokenizer at all: an estimate, never zero
    estimated = await ModelClient("backup", ModelSettings(**layer(fake.url))).stream(
        [_user("where is my parcel")], lambda text: None
    )
    assert estimated.usage.tokens_out > 0 and estimated.usage.tokens_in > 0


def _user(text: str) -> Any:
    from langchain_core.messages import HumanMessage

    return HumanMessage(text)
