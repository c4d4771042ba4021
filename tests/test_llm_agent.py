"""The LLM mode inside the agent, against the fake OpenAI-compatible server over HTTP: the
demo conversation end to end, each fallback layer as the customer sees it, policy refusals
of what the model proposes, PII that never reaches the model, and the start-up messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from supportgraph.backends.sqlite import SqliteStore
from supportgraph.config import Settings
from supportgraph.llm.settings import LLMSettings
from supportgraph.runtime.agent import SupportAgent
from tests.llm_fake import MODEL_VOICE, FakeLLM, Reply, request_kind, shop_model
from tests.server_helpers import (
    CLIENT,
    auth,
    free_port,
    running_server,
    sse_events,
    stream_message,
)

EMAIL = "anna.schmidt@example.com"


@pytest.fixture
def fake(fake_llm_server: FakeLLM) -> FakeLLM:
    fake_llm_server.reset()
    fake_llm_server.responder = shop_model  # whole conversations, not one scripted call
    return fake_llm_server


def layer(url: str, **extra: Any) -> dict[str, Any]:
    return {"base_url": url, "model": "shop-model", "api_key_env": None, "timeout_s": 2.0, **extra}


# These tests follow every model call a turn can make: the model reads every message and
# words every reply. The default economy (the cascade, exact policy replies) is tested in
# test_llm_economy.py.
EVERY_CALL = {"consult_below": 1.0, "phrase_policy_replies": True, "turn_deadline_s": None}


def llm_settings(root: Path, data_dir: Path, **llm: Any) -> Settings:
    (data_dir / "models").mkdir(exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "models").exists():
        (root / "models").symlink_to(data_dir / "models", target_is_directory=True)
    chosen = LLMSettings.model_validate({**EVERY_CALL, **llm}) if llm else None
    return Settings(data_dir=root, llm=chosen)


@pytest.fixture
async def agent(fake: FakeLLM, tmp_path: Path, data_dir: Path) -> AsyncIterator[SupportAgent]:
    settings = llm_settings(
        tmp_path, data_dir, primary=layer(fake.url, max_retries=0), tool_proposals=True
    )
    async with SupportAgent.open(settings) as opened:
        yield opened


async def test_demo_conversation_end_to_end_with_a_model(
    agent: SupportAgent, fake: FakeLLM
) -> None:
    first = await agent.send("c", "I want to cancel my order SG-10001")
    second = await agent.send("c", EMAIL)
    third = await agent.send("c", "yes")
    assert first.intent == "order_modification" and first.awaiting == "email"
    assert second.awaiting == "confirmation" and "SG-10001" in second.reply
    assert [c.name for c in third.tool_calls][:1] == ["cancel_order"]
    for record in (first, second, third):
        assert record.model == "primary" and record.fallback is None
        assert record.reply.startswith(MODEL_VOICE)  # the model phrased it
        assert record.tokens_in > 0 and record.tokens_out > 0 and record.llm_calls >= 1
    store = agent.store
    assert isinstance(store, SqliteStore)
    assert [w["action"] for w in store.writes_log()][:1] == ["cancel_order"]
    kinds = [request_kind(r) for r in fake.requests]
    # The email we asked for and the "yes" to our question are read by the rules, exactly.
    assert kinds.count("understanding") == 1 and kinds.count("phrasing") == 3
    seen = fake.received()
    assert EMAIL not in seen, seen[max(0, seen.find(EMAIL) - 400) : seen.find(EMAIL) + 50]
    assert "Anna" not in seen


async def test_offline_mode_when_no_model_is_configured(
    agent: SupportAgent, tmp_path: Path, data_dir: Path
) -> None:
    async with SupportAgent.open(llm_settings(tmp_path / "off", data_dir)) as offline:
        record = await offline.send("c", "I want to cancel my order SG-10001")
    assert offline._deps.llm is None
    assert record.model is None and record.tokens_in == 0
    assert not record.reply.startswith(MODEL_VOICE)


async def test_backup_then_offline_then_breaker(
    fake: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: connection refused
    settings = llm_settings(
        tmp_path,
        data_dir,
        primary=layer(dead, max_retries=0, breaker_failures=2, breaker_cooldown_s=600),
        backup=layer(fake.url, max_retries=0),
    )
    async with SupportAgent.open(settings) as agent:
        by_backup = await agent.send("c", "Where is my order SG-10002?")
        assert by_backup.model == "backup" and "primary: connection" in (by_backup.fallback or "")
        assert by_backup.reply.startswith(MODEL_VOICE)
        # Two failed calls opened the primary's breaker: it is no longer even tried.
        skipped = await agent.send("c", EMAIL)
        assert "primary: breaker_open" in (skipped.fallback or "")
        # The backup fails too: the offline classifier and templates answer.
        fake.responder = lambda body: Reply(status=500)
        offline = await agent.send("c2", "I want to cancel my order SG-10001")
    assert offline.model == "offline" and "backup: server_error" in (offline.fallback or "")
    assert offline.intent == "order_modification" and offline.awaiting == "email"
    assert not offline.reply.startswith(MODEL_VOICE) and "email" in offline.reply


async def test_a_reply_with_invented_data_is_replaced_by_the_template(
    agent: SupportAgent, fake: FakeLLM
) -> None:
    def inventing(body: dict[str, Any]) -> Reply:
        if request_kind(body) == "phrasing":
            return Reply(content="Order SG-10001 was refunded: 500.00 EUR on 2026-12-24.")
        return shop_model(body)

    fake.responder = inventing
    record = await agent.send("c", "Where is my order SG-10002?")
    assert record.model == "offline" and "ungrounded" in (record.fallback or "")
    assert "500.00" not in record.reply
    assert record.reply.startswith("To protect your account")  # the template's words


async def test_the_policy_guard_refuses_what_the_model_proposes(
    agent: SupportAgent, fake: FakeLLM
) -> None:
    proposals: list[dict[str, Any]] = []
    fake.responder = lambda body: shop_model(body, proposals)
    # Not verified: looking up an order is refused.
    proposals[:] = [{"name": "get_order_details", "arguments": {"order_id": "SG-10004"}}]
    anonymous = await agent.send("p", "Tell me about shipping times please")
    assert [(c.name, c.ok) for c in anonymous.tool_calls] == [("get_order_details", False)]
    assert "identity_required" in anonymous.tool_calls[0].result_summary
    # Verified as Anna: Carlos's order is "not found", a cancellation needs a confirmation,
    # and the graph's own bookkeeping tools are not the model's to call.
    proposals[:] = []
    await agent.send("p", "I want to cancel my order SG-10001")
    await agent.send("p", EMAIL)
    await agent.send("p", "no")
    cancel = {"order_id": "SG-10001", "reason": "model", "key": "k1"}
    proposals[:] = [
        {"name": "get_order_details", "arguments": {"order_id": "SG-10004"}},
        {"name": "cancel_order", "arguments": cancel},
        {"name": "transfer_to_human", "arguments": {"thread_id": "p", "summary": "x", "key": "k2"}},
        {"name": "cancel_order", "arguments": {"order": 1}},  # not the tool's schema
        {"name": "drop_database", "arguments": {}},
    ]
    verified = await agent.send("p", "What are your shipping options?")
    assert sorted((c.name, c.result_summary) for c in verified.tool_calls if not c.ok) == [
        ("cancel_order", "refused by policy: confirmation_required"),
        ("cancel_order", "rejected: 2 invalid arguments"),
        ("drop_database", "rejected: unknown tool"),
        ("get_order_details", "refused by policy: not_found"),
        ("transfer_to_human", "refused by policy: not_proposable"),
    ]
    store = agent.store
    assert isinstance(store, SqliteStore)
    assert store.writes_log() == []  # nothing the model proposed was written
    assert "Carlos" not in verified.reply and "SG-10004" not in verified.reply


def test_start_up_messages_are_readable(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "models").symlink_to(data_dir / "models", target_is_directory=True)
    env = {
        **os.environ,
        "SUPPORTGRAPH_DATA_DIR": str(tmp_path),
        "SUPPORTGRAPH_LLM__PRIMARY__BASE_URL": "http://127.0.0.1:9/v1",
        "SUPPORTGRAPH_LLM__PRIMARY__MODEL": "gpt-x",
        "SUPPORTGRAPH_LLM__PRIMARY__API_KEY_ENV": "SG_TEST_UNSET_KEY",
    }
    env.pop("SG_TEST_UNSET_KEY", None)
    chat = subprocess.run(
        [sys.executable, "-m", "supportgraph.cli", "chat"],
        input="hello\n/quit\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert chat.returncode == 0, chat.stderr
    assert "SG_TEST_UNSET_KEY" in chat.stdout and "Traceback" not in chat.stdout + chat.stderr
    assert "bot>" in chat.stdout or "Hello" in chat.stdout  # the chat still answers
    bad = subprocess.run(
        [sys.executable, "-m", "supportgraph.cli", "send", "hi"],
        capture_output=True,
        text=True,
        env={**env, "SUPPORTGRAPH_LLM__PRIMARY__TIMEOUT_S": "soon"},
        timeout=120,
    )
    assert bad.returncode == 2 and "SUPPORTGRAPH_LLM__PRIMARY__TIMEOUT_S" in bad.stderr
    assert "Traceback" not in bad.stderr


QUESTION = "How long does shipping to France take?"


def test_the_servers_sse_stream_carries_the_models_tokens(
    fake: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    llm_env = {
        "SUPPORTGRAPH_LLM__PRIMARY__BASE_URL": fake.url,
        "SUPPORTGRAPH_LLM__PRIMARY__MODEL": "shop-model",
        "SUPPORTGRAPH_LLM__PRIMARY__API_KEY_ENV": "",
    }
    with (
        running_server(tmp_path / "srv", shared=data_dir, env=llm_env) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        thread = http.post("/v1/threads", json={}, headers=auth(CLIENT)).json()["thread_id"]
        # A knowledge answer: the model words it (an identity request it would not: exact).
        events = stream_message(http, thread, QUESTION, CLIENT)
        # The LangGraph API's messages-tuple mode carries the same tokens.
        lg_thread = http.post("/threads", json={}, headers=auth(CLIENT)).json()["thread_id"]
        with http.stream(
            "POST",
            f"/threads/{lg_thread}/runs/stream",
            json={
                "assistant_id": "supportgraph",
                "input": {"text": QUESTION},
                "stream_mode": ["messages-tuple"],
            },
            headers=auth(CLIENT),
        ) as response:
            lg_events = sse_events(response)
    lg_tokens = "".join(data[0]["content"] for name, data in lg_events if name == "messages")
    assert lg_tokens.startswith(MODEL_VOICE)
    names = [name for name, _ in events]
    tokens = "".join(data["text"] for name, data in events if name == "token")
    turn = events[-1][1]
    assert names[-1] == "turn" and names.index("token") < names.index("turn")
    assert turn["model"] == "primary" and tokens == turn["reply"]
    assert turn["reply"].startswith(MODEL_VOICE)
    phrasing = [r for r in fake.requests if "Facts (JSON)" in json.dumps(r["messages"])]
    assert phrasing and all(r.get("stream") for r in phrasing)  # phrasing was streamed


async def test_a_local_server_without_json_schema_or_native_tools(
    agent: SupportAgent, fake: FakeLLM
) -> None:
    """llama.cpp-like: json_schema and `tools` refused, calls written as JSON text."""
    fake.refuse_json_schema = 400
    fake.refuse_tools = True

    def local(body: dict[str, Any]) -> Reply:
        if request_kind(body) == "tools":
            call = {"name": "get_order_details", "arguments": {"order_id": "SG-10004"}}
            return Reply(content="```json\n" + json.dumps(call) + "\n```")
        return shop_model(body)

    fake.responder = local
    first = await agent.send("l", "Hello, what are your shipping times?")
    second = await agent.send("l", "And how long for Spain?")
    assert first.model == second.model == "primary", (first, fake.response_formats())
    assert [(c.name, c.result_summary) for c in first.tool_calls] == [
        ("get_order_details", "refused by policy: identity_required")
    ]
    formats = fake.response_formats()
    # Negotiated once, remembered: the second turn does not try json_schema again.
    assert formats.count("json_schema") == 1
    assert all(m.get("content") is not None for r in fake.requests for m in r["messages"])
