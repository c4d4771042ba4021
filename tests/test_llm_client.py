"""The model client over real HTTP against the scripted fake: negotiation, text JSON, retries,
timeouts, streaming, token counts, and never a null content."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from pydantic import BaseModel

from supportgraph.llm.client import ModelClient
from supportgraph.llm.failures import ModelFailure
from supportgraph.llm.negotiation import MethodMemory
from supportgraph.llm.settings import ModelSettings
from tests.llm_fake import FakeLLM, Reply, no_sleep


class Answer(BaseModel):
    intent: str
    count: int


ANSWER = json.dumps({"intent": "order_tracking", "count": 2})
ASK = [HumanMessage("Where is my order?")]


def client(fake: FakeLLM, memory: MethodMemory | None = None, **overrides: object) -> ModelClient:
    options: dict[str, object] = {
        "base_url": fake.url,
        "model": "fake-model",
        "api_key_env": None,
        "timeout_s": 2.0,  # generous: CI runs these beside browsers and servers
        "max_retries": 1,
        "backoff_s": 0.01,
    }
    options.update(overrides)
    return ModelClient(
        "primary", ModelSettings.model_validate(options), memory=memory, sleep=no_sleep
    )


async def test_json_schema_answer_validated_and_tokens_counted(fake: FakeLLM) -> None:
    fake.script(Reply(content=ANSWER, usage=(30, 8)))
    answer = await client(fake).structured(ASK, Answer)
    assert answer.value == Answer(intent="order_tracking", count=2)
    assert answer.method == "json_schema"
    assert (answer.usage.tokens_in, answer.usage.tokens_out) == (30, 8)
    assert fake.requests[0]["response_format"]["json_schema"]["name"] == "Answer"


@pytest.mark.parametrize("status", [400, 500])
async def test_refused_json_schema_falls_back_and_is_remembered(fake: FakeLLM, status: int) -> None:
    """llama.cpp refuses json_schema with 400, llama-cpp-python with 500. JSON mode comes
    next, with the schema in response_format (llama-cpp-python enforces it as a grammar)."""
    fake.refuse_json_schema = status
    memory = MethodMemory()
    fake.script(Reply(content=json.dumps({"intent": "pricing", "count": 1})))
    first = await client(fake, memory).structured(ASK, Answer)
    assert first.method == "json_mode" and first.value.intent == "pricing"
    assert fake.requests[-1]["response_format"]["schema"]["properties"]["count"]
    fake.requests.clear()
    fake.script(Reply(content=json.dumps({"intent": "payment", "count": 3})))
    second = await client(fake, memory).structured(ASK, Answer)  # a new client, same endpoint
    assert second.value.intent == "payment"
    assert len(fake.requests) == 1 and fake.response_formats() == ["json_object"]


async def test_function_call_arriving_as_text_in_content_is_accepted(fake: FakeLLM) -> None:
    fake.refuse_json_schema = 400
    call = {"name": "Answer", "arguments": {"intent": "shipping", "count": 4}}
    fake.script(Reply(content=f"<tool_call>{json.dumps(call)}</tool_call>"))
    answer = await client(fake).structured(ASK, Answer)
    assert answer.value.count == 4 and answer.value.intent == "shipping"


async def test_function_calling_when_json_mode_gives_no_json(fake: FakeLLM) -> None:
    """A server that ignores response_format answers JSON mode in prose: the schema is then
    asked as a forced function call, which is remembered for the endpoint."""
    fake.refuse_json_schema = 400
    fake.script(
        Reply(content="I think it is about an order."),
        Reply(tool_calls=[{"name": "Answer", "arguments": {"intent": "pricing", "count": 2}}]),
    )
    memory = MethodMemory()
    answer = await client(fake, memory).structured(ASK, Answer)
    assert answer.method == "function_calling" and answer.value.count == 2
    assert fake.requests[-1]["tools"][0]["function"]["name"] == "Answer"
    assert memory.known(f"structured|{fake.url}|fake-model") == "function_calling"


async def test_malformed_json_everywhere_is_an_invalid_answer(fake: FakeLLM) -> None:
    fake.script(
        Reply(content='{"intent": "order_tracking", "count": '),  # json_schema: cut off
        Reply(content='{"intent": "refund everything"}'),  # json_mode: wrong keys
        Reply(content="no tool call"),  # function_calling
        Reply(raw_body="this is not json at all"),  # prompt: a broken HTTP body
    )
    with pytest.raises(ModelFailure) as caught:
        await client(fake, max_retries=0).structured(ASK, Answer)
    assert caught.value.reason == "invalid_answer"
    assert len(fake.requests) == 4


async def test_server_error_is_retried_then_succeeds(fake: FakeLLM) -> None:
    fake.script(Reply(status=500), Reply(content="Hello!"))
    answer = await client(fake, max_retries=2).complete(ASK)
    assert answer.value == "Hello!"
    assert len(fake.requests) == 2


async def test_retries_are_bounded_and_timeouts_fail_the_layer(fake: FakeLLM) -> None:
    fake.script(*(Reply(content="late", delay_s=2.0) for _ in range(3)))
    with pytest.raises(ModelFailure) as caught:
        await client(fake, max_retries=2, timeout_s=0.2).complete(ASK)
    assert caught.value.reason == "timeout"
    assert len(fake.requests) == 3  # the first attempt and exactly two retries


async def test_refused_key_is_not_retried(fake: FakeLLM) -> None:
    fake.script(Reply(status=401, error="invalid api key"), Reply(content="never asked"))
    with pytest.raises(ModelFailure) as caught:
        await client(fake, max_retries=3).complete(ASK)
    assert caught.value.reason == "auth"
    assert len(fake.requests) == 1


async def test_probe_explains_a_refused_key(fake: FakeLLM) -> None:
    fake.script(Reply(status=401, error="invalid api key"))
    problem = await client(fake).probe()
    assert problem is not None and "refused" in problem and fake.url in problem


async def test_no_message_is_ever_sent_with_null_content(fake: FakeLLM) -> None:
    """langchain-openai sends an assistant tool call without text as content: null, which
    llama-cpp-python rejects; the fake rejects it the same way."""
    history = [
        HumanMessage("Where is SG-10234?"),
        AIMessage(
            content="",
            tool_calls=[{"name": "track_shipment", "args": {"order_id": "SG-10234"}, "id": "c1"}],
        ),
        ToolMessage(content="", tool_call_id="c1"),
    ]
    fake.script(Reply(content="It is on its way."))
    answer = await client(fake).complete(history)
    assert answer.value == "It is on its way."
    sent = fake.requests[0]["messages"]
    assert all(isinstance(m["content"], str) and m["content"] for m in sent)
    assert sent[1]["tool_calls"][0]["function"]["name"] == "track_shipment"


async def test_streaming_delivers_deltas_and_counts_tokens(fake: FakeLLM) -> None:
    fake.script(Reply(chunks=["Your ", "order ", "is on ", "its way."], usage=(40, 6)))
    deltas: list[str] = []
    answer = await client(fake).stream(ASK, deltas.append)
    assert deltas == ["Your ", "order ", "is on ", "its way."]
    assert answer.value == "Your order is on its way."
    assert (answer.usage.tokens_in, answer.usage.tokens_out) == (40, 6)
    assert fake.requests[0]["stream"] is True


async def test_stalled_stream_fails_after_first_token_without_retry(fake: FakeLLM) -> None:
    fake.script(Reply(chunks=["Your ", "order"], chunk_delay_s=1.0), Reply(content="again"))
    deltas: list[str] = []
    with pytest.raises(ModelFailure) as caught:
        await client(fake, timeout_s=0.3, max_retries=2).stream(ASK, deltas.append)
    assert caught.value.reason == "timeout"
    assert len(fake.requests) == 1  # text was shown: a retry would repeat it
