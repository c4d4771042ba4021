"""The official langgraph-sdk client (a client nobody on this project wrote) against our server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from tests.server_helpers import AGENT, CLIENT, OTHER_CLIENT, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("sdk"), shared=data_dir) as url:
        yield url


async def test_assistants_threads_and_runs_wait(server: str) -> None:
    client = get_client(url=server, api_key=CLIENT)
    assistants = await client.assistants.search()
    assert [a["assistant_id"] for a in assistants] == ["supportgraph"]
    thread = await client.threads.create(metadata={"channel": "sdk"})
    tid = thread["thread_id"]
    assert (await client.threads.get(tid))["metadata"]["channel"] == "sdk"
    created = []
    values = await client.runs.wait(
        tid, "supportgraph", input={"text": "Where is my order?"}, on_run_created=created.append
    )
    assert values["awaiting"] == "order_id" and values["intent"] == "order_tracking"
    assert created and created[0]["thread_id"] == tid  # from the Content-Location header
    values = await client.runs.wait(tid, "supportgraph", input={"text": "SG-10002"})
    assert values["awaiting"] == "email"
    state = await client.threads.get_state(tid)
    assert state["values"]["slots"]["order_id"] == "SG-10002" and state["next"] == []
    history = await client.threads.get_history(tid, limit=5)
    assert len(history) >= 2 and history[0]["checkpoint"]["checkpoint_id"]
    other = get_client(url=server, api_key=OTHER_CLIENT)
    with pytest.raises(Exception, match="not found"):
        await other.threads.get_state(tid)


async def test_runs_stream_values_and_updates(server: str) -> None:
    client = get_client(url=server, api_key=CLIENT)
    tid = (await client.threads.create())["thread_id"]
    parts = [
        part
        async for part in client.runs.stream(
            tid,
            "supportgraph",
            input={"text": "How much is shipping?"},
            stream_mode=["values", "updates"],
            multitask_strategy="enqueue",
        )
    ]
    events = [p.event for p in parts]
    assert events[0] == "metadata"
    updates = [next(iter(p.data)) for p in parts if p.event == "updates"]
    assert updates == [
        "detect_language",
        "understand",
        "escalate",
        "retrieve",
        "act",
        "adapt_persona",
        "respond",
    ]
    final = [p.data for p in parts if p.event == "values"][-1]
    assert final["retrieved"] and final["reply"]


async def test_handoff_interrupt_is_resumed_with_a_command(server: str) -> None:
    client = get_client(url=server, api_key=CLIENT)
    tid = (await client.threads.create())["thread_id"]
    values = await client.runs.wait(
        tid, "supportgraph", input={"text": "I want to talk to a human"}
    )
    assert values["__interrupt__"][0]["value"]["type"] == "handoff"
    assert (await client.threads.get(tid))["status"] == "interrupted"
    with pytest.raises(Exception, match="agent or admin"):  # a customer key cannot answer
        await client.runs.wait(tid, "supportgraph", command={"resume": "I am the agent"})
    agent = get_client(url=server, api_key=AGENT)
    resumed = await agent.runs.wait(
        tid, "supportgraph", command={"resume": {"action": "reply", "text": "Sam here, hello!"}}
    )
    assert resumed["reply"] == "Sam here, hello!" and resumed["escalation_status"] == "human_active"
    assert (await client.threads.get(tid))["status"] == "idle"
    update = await agent.threads.update_state(tid, {"escalation_status": "none"}, as_node="respond")
    assert update["checkpoint"]["checkpoint_id"]
    back = await client.runs.wait(
        tid, "supportgraph", input={"text": "how much is express shipping?"}
    )
    assert back["escalation"]["action"] == "none" and back["retrieved"]


async def test_fields_the_sdk_sends_that_this_server_does_not_use_are_accepted(
    server: str,
) -> None:
    """Request bodies are typed (langgraph_schemas.py), yet every SDK option still works."""
    client = get_client(url=server, api_key=CLIENT)
    found = await client.assistants.search(
        metadata={"team": "support"},
        graph_id="supportgraph",
        limit=5,
        offset=0,
        sort_by="assistant_id",
        sort_order="asc",
        select=["assistant_id"],
    )
    assert [a["assistant_id"] for a in found] == ["supportgraph"]
    thread = await client.threads.create(
        metadata={"channel": "sdk"}, if_exists="raise", graph_id="supportgraph", ttl=60
    )
    tid = thread["thread_id"]
    assert thread["metadata"] == {"channel": "sdk", "graph_id": "supportgraph"}
    values = await client.runs.wait(
        tid,
        "supportgraph",
        input={"text": "How much is shipping?"},
        metadata={"source": "sdk"},
        config={"tags": ["sdk"]},
        context={"tenant": "demo"},
        interrupt_before=[],
        on_completion="keep",
        on_disconnect="continue",
        if_not_exists="reject",
        after_seconds=0,
        durability="sync",
        multitask_strategy="enqueue",
    )
    assert values["retrieved"] and values["reply"]
    parts = [
        part
        async for part in client.runs.stream(
            tid,
            "supportgraph",
            input={"text": "Where is my order?"},
            stream_mode="values",
            stream_subgraphs=True,
            stream_resumable=False,
            feedback_keys=["helpful"],
            durability="async",
        )
    ]
    assert parts[0].event == "metadata" and parts[-1].data["awaiting"] == "order_id"
    history = await client.threads.get_history(tid, limit=2, metadata={"source": "sdk"})
    assert len(history) == 2


async def test_a_run_retried_with_the_same_idempotency_key_runs_once(server: str) -> None:
    client = get_client(url=server, api_key=CLIENT, headers={"Idempotency-Key": "run-1"})
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.wait(tid, "supportgraph", input={"text": "Where is my order?"})
    again = await client.runs.wait(tid, "supportgraph", input={"text": "Where is my order?"})
    assert first["awaiting"] == again["awaiting"] == "order_id"
    turns = httpx.get(
        f"{server}/v1/threads/{tid}/turns", headers={"Authorization": f"Bearer {CLIENT}"}
    ).json()
    assert [t["turn"] for t in turns] == [1]


async def test_the_chat_input_of_langgraph_clients_is_answered_with_an_ai_message(
    server: str,
) -> None:
    client = get_client(url=server, api_key=CLIENT)
    tid = (await client.threads.create())["thread_id"]
    values = await client.runs.wait(
        tid,
        "supportgraph",
        input={"messages": [{"type": "human", "content": "Where is my order?"}]},
    )
    assert values["intent"] == "order_tracking" and values["awaiting"] == "order_id"
    reply = values["messages"][-1]
    assert reply["type"] == "ai" and "order number" in reply["content"] and reply["id"]
    values = await client.runs.wait(
        tid,
        "supportgraph",
        input={"messages": [{"role": "user", "content": [{"type": "text", "text": "SG-10002"}]}]},
    )
    assert values["awaiting"] == "email" and values["slots"]["order_id"] == "SG-10002"
    humans = [m["content"] for m in values["messages"] if m["type"] == "human"]
    assert humans == ["Where is my order?", "SG-10002"]
    async with httpx.AsyncClient(base_url=server, headers={"x-api-key": CLIENT}) as http:
        for bad, says in [
            ({"messages": [{"role": "assistant", "content": "hi"}]}, "human/user message"),
            ({"messages": [{"role": "wizard", "content": "hi"}]}, "unknown message role"),
            ({}, "input must be"),
        ]:
            answer = await http.post(
                f"/threads/{tid}/runs/wait", json={"assistant_id": "supportgraph", "input": bad}
            )
            assert answer.status_code == 422 and says in answer.text, answer.text
