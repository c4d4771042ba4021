"""Idempotent messages and concurrent load against a real server: a retried message returns
the first TurnRecord; 50 concurrent creators and writers get no error."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from supportgraph.runtime.agent import InvalidMessage, SupportAgent
from tests.server_helpers import CLIENT, auth, server_fixtures

server_dir, server, http = server_fixtures("durability")


def new_thread(http: httpx.Client) -> str:
    r = http.post("/v1/threads", json={"locale": "en"}, headers=auth(CLIENT))
    assert r.status_code == 201, r.text
    return str(r.json()["thread_id"])


def post(http: httpx.Client, thread: str, body: dict, **headers: str) -> httpx.Response:
    return http.post(
        f"/v1/threads/{thread}/messages", json=body, headers={**auth(CLIENT), **headers}
    )


def test_a_retried_message_returns_the_first_turn_record(
    http: httpx.Client, server_dir: Path
) -> None:
    thread = new_thread(http)
    for text in ("I want to cancel my order SG-10001", "anna.schmidt@example.com"):
        assert post(http, thread, {"text": text}).status_code == 200
    first = post(http, thread, {"text": "yes"}, **{"Idempotency-Key": "m-3"})
    assert first.status_code == 200 and "SG-10001 is cancelled" in first.json()["reply"]
    # The client never saw the answer and retries: same key, same record, no new turn.
    again = post(http, thread, {"text": "yes"}, **{"Idempotency-Key": "m-3"})
    assert again.json() == first.json()
    in_body = post(http, thread, {"text": "yes", "client_message_id": "m-3"})
    assert in_body.json() == first.json()
    streamed = http.post(
        f"/v1/threads/{thread}/messages",
        json={"text": "yes"},
        headers={**auth(CLIENT), "Idempotency-Key": "m-3", "Accept": "text/event-stream"},
    )
    turn = [line for line in streamed.text.splitlines() if line.startswith("data: ")][-1]
    assert json.loads(turn[6:])["turn"] == 3
    turns = http.get(f"/v1/threads/{thread}/turns", headers=auth(CLIENT)).json()
    assert [t["turn"] for t in turns] == [1, 2, 3]
    # The key names one message: reused for another text it is refused, not run.
    reused = post(http, thread, {"text": "no"}, **{"Idempotency-Key": "m-3"})
    assert reused.status_code == 422 and "already used" in reused.json()["error"]["message"]
    differ = post(
        http, thread, {"text": "hi", "client_message_id": "a"}, **{"Idempotency-Key": "b"}
    )
    assert differ.status_code == 422
    with sqlite3.connect(server_dir / "store.db") as db:
        cancels = db.execute(
            "SELECT count(*) FROM writes WHERE action = 'cancel_order' AND target = 'SG-10001'"
        ).fetchone()[0]
    assert cancels == 1


async def test_the_python_api_takes_a_client_message_id(agent: SupportAgent, thread: str) -> None:
    first = await agent.send(thread, "Where is my order?", client_message_id="c1")
    again = await agent.send(thread, "Where is my order?", client_message_id="c1")
    assert again.model_dump() == first.model_dump() and len(await agent.history(thread)) == 1
    with pytest.raises(InvalidMessage, match="already used"):
        await agent.send(thread, "Something else", client_message_id="c1")


async def test_two_copies_of_one_message_at_once_run_one_turn(
    agent: SupportAgent, thread: str
) -> None:
    a, b = await asyncio.gather(
        agent.send(thread, "Where is my order?", client_message_id="same"),
        agent.send(thread, "Where is my order?", client_message_id="same"),
    )
    assert a.model_dump() == b.model_dump() and len(await agent.history(thread)) == 1


async def test_fifty_concurrent_creators_and_writers_get_no_error(server: str) -> None:
    """The red team saw HTTP 500 'cannot commit transaction - SQL statements in progress' at
    10-40 concurrent clients (the transcript shared the checkpointer's connection; on the
    old code this load gave 18 500s and 9 dropped connections)."""
    outcomes: list[int | str] = []

    async def customer(client: httpx.AsyncClient, n: int) -> None:
        try:
            for _ in range(3):
                r = await client.post(
                    "/v1/threads", json={"metadata": {"n": n}}, headers=auth(CLIENT)
                )
                outcomes.append(r.status_code)
                r2 = await client.post("/threads", json={}, headers=auth(CLIENT))
                outcomes.append(r2.status_code)
                if r.status_code != 201:
                    continue
                for text in ("Where is my order?", "SG-10002"):
                    r = await client.post(
                        f"/v1/threads/{r.json()['thread_id']}/messages",
                        json={"text": text},
                        headers=auth(CLIENT),
                    )
                    outcomes.append(r.status_code)
        except httpx.HTTPError as exc:
            outcomes.append(type(exc).__name__)

    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=server, timeout=120, limits=limits) as client:
        await asyncio.gather(*(customer(client, n) for n in range(50)))
    assert len(outcomes) == 50 * 3 * 4 and set(outcomes) <= {200, 201}, sorted(
        map(str, set(outcomes))
    )
