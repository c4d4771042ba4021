"""The HTTP turn path in-process (no server process): JSON and SSE turns leave the same `turn`
log line, and an over-long message gets the same 413 on every HTTP entry while nothing of it
is recorded."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from supportgraph.config import Settings
from supportgraph.server.app import create_app
from tests.server_helpers import AGENT, CLIENT, KEYS, auth

LIMIT = Settings().max_message_chars
TOO_LONG = f"message longer than {LIMIT} characters"


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[TestClient]:
    own = tmp_path_factory.mktemp("http_turns")
    for name in ("models", "kb"):  # the session's trained model and KB index
        (data_dir / name).mkdir(exist_ok=True)
        (own / name).symlink_to(data_dir / name, target_is_directory=True)
    settings = Settings(data_dir=own, api_keys=KEYS, demo=False, rate_limit_per_minute=0)
    with TestClient(create_app(settings)) as client:
        yield client


def new_thread(http: TestClient) -> str:
    created = http.post("/v1/threads", json={}, headers=auth(CLIENT))
    assert created.status_code == 201
    return str(created.json()["thread_id"])


def sse_events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        event, data = block.split("\n", 1)
        events.append((event.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def turn_lines(caplog: pytest.LogCaptureFixture, thread: str) -> list[dict[str, Any]]:
    return [
        r.fields  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "supportgraph.server"
        and r.getMessage() == "turn"
        and r.fields["thread"] == thread  # type: ignore[attr-defined]
    ]


def test_json_and_sse_turns_write_the_same_turn_log_line(
    http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="supportgraph.server")
    thread = new_thread(http)
    url = f"/v1/threads/{thread}/messages"
    as_json = http.post(url, json={"text": "Where is my order?"}, headers=auth(CLIENT))
    assert as_json.status_code == 200
    streamed = http.post(
        url,
        json={"text": "SG-10002"},
        headers={**auth(CLIENT), "Accept": "text/event-stream", "X-Request-ID": "sse-req-1"},
    )
    events = sse_events(streamed.text)
    assert events[-1][0] == "turn" and events[-1][1]["turn"] == 2
    lines = turn_lines(caplog, thread)
    assert [line["turn"] for line in lines] == [1, 2]
    first, second = lines
    assert set(first) == set(second)  # the same fields, whichever way the reply left
    assert second["request_id"] == "sse-req-1"
    assert second["intent"] == events[-1][1]["intent"] == "order_tracking"
    assert second["escalation"] == "none" and second["ms"] == events[-1][1]["latency_ms"]
    assert first["request_id"] == as_json.headers["x-request-id"]


def test_an_over_long_message_gets_the_same_413_on_every_http_entry(
    http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="supportgraph.server")
    thread = new_thread(http)
    long = "x" * (LIMIT + 1)
    url = f"/v1/threads/{thread}/messages"
    answers = [
        http.post(url, json={"text": long}, headers=auth(CLIENT)),
        http.post(
            url, json={"text": long}, headers={**auth(CLIENT), "Accept": "text/event-stream"}
        ),
        http.post(
            f"/threads/{thread}/runs/wait", json={"input": {"text": long}}, headers=auth(CLIENT)
        ),
    ]
    for answer in answers:
        assert answer.status_code == 413, answer.text
        assert answer.json()["error"]["message"] == TOO_LONG
    # A LangGraph stream has begun when the run starts: the refusal is its error event.
    streamed = http.post(
        f"/threads/{thread}/runs/stream", json={"input": {"text": long}}, headers=auth(CLIENT)
    )
    assert sse_events(streamed.text)[1:] == [("error", {"error": "413", "message": TOO_LONG})]
    # Nothing ran: no turn recorded, none logged.
    assert http.get(f"/v1/threads/{thread}/turns", headers=auth(CLIENT)).json() == []
    assert turn_lines(caplog, thread) == []
    # Exactly at the limit is still a message.
    at_limit = http.post(url, json={"text": "y" * LIMIT}, headers=auth(CLIENT))
    assert at_limit.status_code == 200 and at_limit.json()["turn"] == 1


def test_a_human_agents_over_long_reply_is_a_413_too(http: TestClient) -> None:
    thread = new_thread(http)
    url = f"/v1/threads/{thread}/messages"
    http.post(url, json={"text": "where is my order SG-10002"}, headers=auth(CLIENT))
    handed = http.post(url, json={"text": "I want to talk to a human"}, headers=auth(CLIENT))
    assert handed.json()["awaiting"] == "human_agent"
    reply = http.post(
        f"/v1/threads/{thread}/agent-messages",
        json={"text": "z" * (LIMIT + 1)},
        headers=auth(AGENT),
    )
    assert reply.status_code == 413 and reply.json()["error"]["message"] == TOO_LONG
    summary = http.get(f"/v1/threads/{thread}", headers=auth(CLIENT)).json()
    assert summary["awaiting"] == "human_agent"  # still waiting for a (shorter) reply
