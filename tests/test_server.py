"""The HTTP API against a real uvicorn server on a loopback port."""

from __future__ import annotations

import concurrent.futures
import json
import time
from pathlib import Path

import httpx

from tests.server_helpers import (
    ADMIN,
    AGENT,
    CLIENT,
    OTHER_CLIENT,
    auth,
    running_server,
    server_fixtures,
)

server_dir, server, http = server_fixtures("server")


def new_thread(http: httpx.Client, key: str = CLIENT) -> str:
    r = http.post("/v1/threads", json={"locale": "en", "channel": "test"}, headers=auth(key))
    assert r.status_code == 201, r.text
    return str(r.json()["thread_id"])


def say(http: httpx.Client, thread: str, text: str, key: str = CLIENT) -> dict:
    r = http.post(f"/v1/threads/{thread}/messages", json={"text": text}, headers=auth(key))
    assert r.status_code == 200, r.text
    return r.json()


def test_health_readiness_and_metrics(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz").json()
    assert ready["ready"] and ready["checks"] == {"checkpointer": "ok", "store": "ok", "kb": "ok"}
    say(http, new_thread(http), "Where is my order?")
    metrics = http.get("/metrics").text
    assert (
        "supportgraph_turns_total" in metrics
        and 'supportgraph_intents_total{intent="order_tracking"}' in metrics
    )
    assert 'supportgraph_node_seconds_bucket{le="0.01",node="understand"}' in metrics


def test_chat_returns_turn_records_and_state(http: httpx.Client) -> None:
    thread = new_thread(http)
    first = say(http, thread, "Where is my order?")
    assert (
        first["awaiting"] == "order_id"
        and first["turn"] == 1
        and first["path"][0] == "detect_language"
    )
    say(http, thread, "SG-10002")
    done = say(http, thread, "anna.schmidt@example.com")
    assert "DHL4019283746" in done["reply"]
    summary = http.get(f"/v1/threads/{thread}", headers=auth(CLIENT)).json()
    assert (
        summary["verified_customer"] is True
        and summary["turns"] == 3
        and summary["language"] == "en"
    )
    turns = http.get(f"/v1/threads/{thread}/turns", headers=auth(CLIENT)).json()
    assert [t["turn"] for t in turns] == [1, 2, 3]


def test_sse_streams_node_events_then_the_turn(http: httpx.Client) -> None:
    thread = new_thread(http)
    events: list[tuple[str, dict]] = []
    start = time.perf_counter()
    first_event = None
    with http.stream(
        "POST",
        f"/v1/threads/{thread}/messages",
        json={"text": "How much is shipping?"},
        headers={**auth(CLIENT), "Accept": "text/event-stream"},
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
                first_event = first_event or time.perf_counter() - start
            elif line.startswith("data: ") and event:
                events.append((event, json.loads(line[6:])))
    names = [e for e, _ in events]
    assert names[-1] == "turn" and names.count("turn") == 1
    assert [d["name"] for e, d in events if e == "node"] == events[-1][1]["path"]
    assert events[-1][1]["retrieved"] and first_event is not None


def test_every_4xx_path(http: httpx.Client) -> None:
    thread = new_thread(http)
    url = f"/v1/threads/{thread}/messages"
    cases = [
        (http.post(url, json={"text": "hi"}), 401),
        (http.post(url, json={"text": "hi"}, headers=auth("wrong-key")), 401),
        (http.post("/v1/threads", json={}, headers=auth(AGENT)), 403),
        (http.get("/v1/handoffs", headers=auth(CLIENT)), 403),
        (http.get("/v1/customers/C1001/export", headers=auth(AGENT)), 403),
        (
            http.post("/v1/threads/th_missing/messages", json={"text": "hi"}, headers=auth(CLIENT)),
            404,
        ),
        (http.get("/v1/threads/th_missing", headers=auth(CLIENT)), 404),
        (
            http.post(
                url,
                content=b"{not json",
                headers={**auth(CLIENT), "content-type": "application/json"},
            ),
            422,
        ),
        (http.post(url, json={"text": 5}, headers=auth(CLIENT)), 422),
        (http.post(url, json={}, headers=auth(CLIENT)), 422),
        (http.post(url, json={"text": "hi", "admin": True}, headers=auth(CLIENT)), 422),
        (http.post(url, json={"text": "   "}, headers=auth(CLIENT)), 422),
        (http.post(url, json={"text": "x" * 4001}, headers=auth(CLIENT)), 413),
        (
            http.post(
                f"/v1/threads/{thread}/agent-messages", json={"text": "hi"}, headers=auth(AGENT)
            ),
            409,
        ),
        (http.post("/v1/handoffs/th_missing/claim", headers=auth(AGENT)), 404),
        (http.get("/v1/customers/NOPE/export", headers=auth(ADMIN)), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.request.url, response.text)
        body = response.json()
        assert (
            body["error"]["message"]
            and body["error"]["request_id"] == response.headers["x-request-id"]
        )
    # A caller's request id is echoed back.
    assert (
        http.get("/healthz", headers={"X-Request-ID": "abc123"}).headers["x-request-id"] == "abc123"
    )


def test_a_client_cannot_read_another_clients_thread(http: httpx.Client) -> None:
    thread = new_thread(http, CLIENT)
    say(http, thread, "hello")
    for path in (f"/v1/threads/{thread}", f"/v1/threads/{thread}/turns"):
        assert http.get(path, headers=auth(OTHER_CLIENT)).status_code == 404
        assert http.get(path, headers=auth(ADMIN)).status_code == 200
    r = http.post(f"/v1/threads/{thread}/messages", json={"text": "hi"}, headers=auth(OTHER_CLIENT))
    assert r.status_code == 404


def fire_twenty(server: str, http: httpx.Client) -> None:
    """20 messages at once on one thread: all answered, all kept, turns 1..20."""
    thread = new_thread(http)
    texts = [f"question number {i} about shipping" for i in range(20)]

    def post(text: str) -> int:
        with httpx.Client(base_url=server, timeout=60) as c:
            url = f"/v1/threads/{thread}/messages"
            return c.post(url, json={"text": text}, headers=auth(CLIENT)).status_code

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(post, texts))
    assert statuses == [200] * 20
    turns = http.get(f"/v1/threads/{thread}/turns", headers=auth(CLIENT)).json()
    assert sorted(t["turn"] for t in turns) == list(range(1, 21))
    assert sorted(t["customer_text"] for t in turns) == sorted(texts)
    assert http.get(f"/v1/threads/{thread}", headers=auth(CLIENT)).json()["turns"] == 20


def test_twenty_concurrent_messages_on_one_thread_are_all_kept(
    http: httpx.Client, server: str
) -> None:
    fire_twenty(server, http)


def test_two_workers_keep_one_threads_turns_in_order(tmp_path: Path, data_dir: Path) -> None:
    with (
        running_server(tmp_path / "workers", shared=data_dir, workers=2) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        fire_twenty(url, client)


def test_handoff_agent_reply_release_and_bot_resumes(http: httpx.Client) -> None:
    thread = new_thread(http)
    say(http, thread, "where is my order SG-10002")
    handed = say(http, thread, "I want to talk to a human")
    assert handed["awaiting"] == "human_agent"
    queue = http.get("/v1/handoffs", headers=auth(AGENT)).json()
    mine = next(h for h in queue if h["thread_id"] == thread)
    assert mine["priority"] == "high" and mine["summary"]["slots"]["order_id"] == "SG-10002"
    claim = http.post(f"/v1/handoffs/{thread}/claim", headers=auth(AGENT)).json()
    assert claim["status"] == "claimed"
    reply = http.post(
        f"/v1/threads/{thread}/agent-messages",
        json={"text": "Hi, Sam here.", "agent": "Sam"},
        headers=auth(AGENT),
    )
    assert reply.status_code == 200 and reply.json()["author"] == "human_agent"
    turns = http.get(f"/v1/threads/{thread}/turns", headers=auth(CLIENT)).json()
    assert turns[-1]["reply"] == "Hi, Sam here."
    released = http.post(f"/v1/handoffs/{thread}/release", headers=auth(AGENT))
    assert released.status_code == 200 and released.json()["author"] == "system"
    assert all(
        h["thread_id"] != thread for h in http.get("/v1/handoffs", headers=auth(AGENT)).json()
    )
    back = say(http, thread, "how much is express shipping?")
    assert back["author"] == "bot" and back["escalation"]["action"] == "none" and back["retrieved"]


def test_export_then_erase_a_customer(http: httpx.Client) -> None:
    thread = new_thread(http)
    say(http, thread, "where is my order SG-10006?")
    say(http, thread, "camille.martin@example.com")
    export = http.get("/v1/customers/C1003/export", headers=auth(ADMIN))
    assert export.status_code == 200
    data = export.json()
    assert data["customer"]["email"] == "camille.martin@example.com"
    assert any(o["id"] == "SG-10006" for o in data["orders"])
    assert any(t["thread_id"] == thread for t in data["threads"])
    assert http.delete("/v1/customers/C1003", headers=auth(ADMIN)).status_code == 204
    assert http.get("/v1/customers/C1003/export", headers=auth(ADMIN)).status_code == 404
    assert http.get(f"/v1/threads/{thread}", headers=auth(ADMIN)).status_code == 404
    again = new_thread(http)
    say(http, again, "where is my order SG-10006?")
    lookup = say(http, again, "camille.martin@example.com")
    assert "couldn't verify those details" in lookup["reply"]


def test_delete_a_thread(http: httpx.Client) -> None:
    thread = new_thread(http)
    say(http, thread, "hello")
    assert http.delete(f"/v1/threads/{thread}", headers=auth(CLIENT)).status_code == 204
    assert http.get(f"/v1/threads/{thread}/turns", headers=auth(CLIENT)).status_code == 404


def test_openapi_documents_the_api_with_examples(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    for path in (
        "/v1/threads",
        "/v1/threads/{thread_id}/messages",
        "/v1/handoffs",
        "/v1/customers/{customer_id}/export",
        "/healthz",
        "/metrics",
    ):
        assert path in spec["paths"]
    assert "examples" in json.dumps(spec["components"]["schemas"]["Message"])


def test_pages_are_served(http: httpx.Client) -> None:
    chat = http.get("/")
    assert chat.status_code == 200 and "Sole &amp; Thread support" in chat.text
    assert http.get("/agent").status_code == 200


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path, data_dir: Path) -> None:
    with (
        running_server(tmp_path / "limited", shared=data_dir, rate_limit=3, demo=False) as url,
        httpx.Client(base_url=url) as c,
    ):
        codes = [c.post("/v1/threads", json={}, headers=auth(CLIENT)).status_code for _ in range(5)]
        assert codes[:3] == [201, 201, 201] and codes[-1] == 429
        limited = c.post("/v1/threads", json={}, headers=auth(CLIENT))
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        # Pages do not embed keys outside demo mode.
        assert "client-key" not in c.get("/").text


def test_logs_are_json_lines_without_message_text(http: httpx.Client, server_dir: Path) -> None:
    thread = new_thread(http)
    say(http, thread, "my email is secret.person@example.com and I live at Secret Street 5")
    lines = [
        json.loads(line)
        for line in (server_dir / "server.log").read_text().splitlines()
        if line.startswith("{")
    ]
    assert any(entry["event"] == "turn" and entry["thread"] == thread for entry in lines)
    assert all(entry.get("request_id") for entry in lines if entry["event"] == "http")
    text = (server_dir / "server.log").read_text()
    assert "secret.person" not in text and "Secret Street" not in text


def test_timeline_needs_the_admin_scope(http: httpx.Client) -> None:
    thread = new_thread(http)
    say(http, thread, "my email is anna.schmidt@example.com, where is SG-10002?")
    assert http.get(f"/v1/threads/{thread}/timeline", headers=auth(CLIENT)).status_code == 403
    assert http.get(f"/v1/threads/{thread}/timeline", headers=auth(AGENT)).status_code == 403
    timeline = http.get(f"/v1/threads/{thread}/timeline", headers=auth(ADMIN)).json()
    assert timeline["turns"][0]["nodes"][0]["node"] == "detect_language"
    assert "anna.schmidt" not in json.dumps(timeline)
    shown = http.get(f"/v1/threads/{thread}/timeline?show_pii=true", headers=auth(ADMIN)).json()
    assert "anna.schmidt@example.com" in json.dumps(shown)


def test_replay_endpoints_fork_and_rerun_for_admins_only(http: httpx.Client) -> None:
    thread = new_thread(http)
    say(http, thread, "I want to cancel my order SG-10001")
    say(http, thread, "anna.schmidt@example.com")
    listed = http.get("/v1/replay/threads", headers=auth(ADMIN)).json()
    assert thread in [t["thread_id"] for t in listed]
    for key in (CLIENT, AGENT):
        assert http.get("/v1/replay/threads", headers=auth(key)).status_code == 403
        body = {"turn": 2, "text": "no"}
        assert (
            http.post(f"/v1/threads/{thread}/fork", json=body, headers=auth(key)).status_code == 403
        )
        assert http.post(f"/v1/threads/{thread}/rerun", headers=auth(key)).status_code == 403
    bad = http.post(
        f"/v1/threads/{thread}/fork", json={"turn": 7, "text": "x"}, headers=auth(ADMIN)
    )
    assert bad.status_code == 422 and "no turn 7" in bad.json()["error"]["message"]
    missing = http.post("/v1/threads/nope/rerun", headers=auth(ADMIN))
    assert missing.status_code == 404
    fork = http.post(
        f"/v1/threads/{thread}/fork",
        json={"turn": 2, "text": "carlos.garcia@example.com"},
        headers=auth(ADMIN),
    )
    assert fork.status_code == 200, fork.text
    branch = fork.json()
    assert branch["parent_thread"] == thread and branch["from_turn"] == 2
    # Carlos's details with Anna's order: not verified, and not told whose order it is.
    assert "couldn't verify those details for order SG-10001" in branch["record"]["reply"]
    assert "carlos.garcia" not in fork.text  # redacted unless show_pii
    report = http.post(f"/v1/threads/{thread}/rerun", headers=auth(ADMIN)).json()
    assert report["diverged"] is False and len(report["turns"]) == 2
    timeline = http.get(f"/v1/threads/{thread}/timeline", headers=auth(ADMIN)).json()
    assert [b["thread_id"] for b in timeline["branches"]] == [branch["branch_id"]]
