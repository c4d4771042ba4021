"""Isolation between API keys, against a real server: ownership by a hash of the whole key,
no key material in any answer or log, unowned threads not claimable, existence not revealed,
and the state fields each scope may write."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from supportgraph.config import Settings
from supportgraph.runtime.agent import SupportAgent
from tests.server_helpers import auth, server_fixtures

# Two client keys that share their first 20 characters: ownership once compared 12.
ALICE = "client-shared-prefix-AAAAAAAAAAAA"
MALLORY = "client-shared-prefix-BBBBBBBBBBBB"
AGENT = "agent-shared-prefix-CCCCCCCCCCCC"
ADMIN = "admin-key-for-security-tests-0001"
KEYS = {ALICE: "client", MALLORY: "client", AGENT: "agent", ADMIN: "admin"}


server_dir, server, http = server_fixtures(
    "security", env={"SUPPORTGRAPH_API_KEYS": json.dumps(KEYS)}
)


def new_thread(http: httpx.Client, key: str) -> str:
    r = http.post("/v1/threads", json={"locale": "en"}, headers=auth(key))
    assert r.status_code == 201, r.text
    return str(r.json()["thread_id"])


def say(http: httpx.Client, thread: str, text: str, key: str) -> httpx.Response:
    return http.post(f"/v1/threads/{thread}/messages", json={"text": text}, headers=auth(key))


def test_a_key_sharing_a_prefix_sees_nothing_of_another_clients_thread(
    http: httpx.Client,
) -> None:
    thread = new_thread(http, ALICE)
    for text in ("Where is my order SG-10002?", "anna.schmidt@example.com"):
        assert say(http, thread, text, ALICE).status_code == 200
    for path in (f"/v1/threads/{thread}", f"/v1/threads/{thread}/turns"):
        assert http.get(path, headers=auth(ALICE)).status_code == 200
        assert http.get(path, headers=auth(MALLORY)).status_code == 404
    assert http.get(f"/threads/{thread}/state", headers=auth(MALLORY)).status_code == 404
    assert say(http, thread, "hi", MALLORY).status_code == 404
    r = http.post(
        f"/threads/{thread}/runs/wait", json={"input": {"text": "hi"}}, headers=auth(MALLORY)
    )
    assert r.status_code == 404


def test_no_key_material_in_answers_or_logs(http: httpx.Client, server_dir: Path) -> None:
    thread = new_thread(http, ALICE)
    assert say(http, thread, "I want to talk to a human", ALICE).json()["awaiting"] == (
        "human_agent"
    )
    claimed = http.post(f"/v1/handoffs/{thread}/claim", headers=auth(AGENT))
    assert claimed.status_code == 200
    queue = http.get("/v1/handoffs", headers=auth(AGENT)).text
    log = (server_dir / "server.log").read_text()
    for key in KEYS:
        for text in (claimed.text, queue, log):
            assert key[:8] not in text or key[:8] in ("client-s", "agent-sh")
            assert key[-12:] not in text
    assert claimed.json()["claimed_by"].startswith("key-")


async def test_a_thread_without_owner_cannot_be_claimed_and_existence_is_not_revealed(
    http: httpx.Client, server_dir: Path
) -> None:
    # A thread made with the Python API on the server's data dir has no owner record.
    async with SupportAgent.open(Settings(data_dir=server_dir)) as agent:
        await agent.send("cli-thread-1", "Where is my order SG-10002?")
        await agent.send("cli-thread-1", "anna.schmidt@example.com")
    owned = new_thread(http, ALICE)
    answers = {}
    for thread_id in ("cli-thread-1", owned, "never-made-1"):
        r = http.post("/threads", json={"thread_id": thread_id}, headers=auth(MALLORY))
        answers[thread_id] = (r.status_code, r.json()["error"]["message"])
    # The same answer for an unowned thread, another client's and one that does not exist.
    assert len(set(answers.values())) == 1 and answers["cli-thread-1"][0] == 422
    assert http.get("/threads/cli-thread-1/state", headers=auth(MALLORY)).status_code == 404
    assert http.get("/threads/cli-thread-1", headers=auth(MALLORY)).status_code == 404
    # The owner may name its own thread; an admin gets 409 for the CLI thread that exists.
    mine = http.post(
        "/threads", json={"thread_id": owned, "if_exists": "do_nothing"}, headers=auth(ALICE)
    )
    assert mine.status_code == 200 and mine.json()["thread_id"] == owned
    r = http.post("/threads", json={"thread_id": "cli-thread-1"}, headers=auth(ADMIN))
    assert r.status_code == 409


def test_an_agent_cannot_write_identity_or_policy_fields(http: httpx.Client) -> None:
    thread = new_thread(http, ALICE)
    assert say(http, thread, "Where is my order SG-10002?", ALICE).json()["awaiting"] == "email"
    for values in (
        {"customer_id": "C1001"},
        {"pending_action": {"name": "cancel_order", "args": {"order_id": "SG-10002"}}},
        {"slots": {"verified": True}},
    ):
        r = http.post(
            f"/threads/{thread}/state",
            json={"values": values, "as_node": "respond"},
            headers=auth(AGENT),
        )
        assert r.status_code == 403, r.text
        assert next(iter(values)) in r.json()["error"]["message"]
    bad_node = http.post(
        f"/threads/{thread}/state",
        json={"values": {"persona": "expert"}, "as_node": "no_such_node"},
        headers=auth(AGENT),
    )
    assert bad_node.status_code == 422
    unknown = http.post(
        f"/threads/{thread}/state", json={"values": {"is_admin": True}}, headers=auth(AGENT)
    )
    assert unknown.status_code == 422
    allowed = http.post(
        f"/threads/{thread}/state",
        json={"values": {"persona": "expert"}, "as_node": "adapt_persona"},
        headers=auth(AGENT),
    )
    assert allowed.status_code == 200, allowed.text
    state = http.get(f"/threads/{thread}/state", headers=auth(AGENT)).json()
    assert state["values"]["persona"] == "expert"
    # Nothing was disclosed: the bot still asks who the customer is.
    follow = say(http, thread, "So where is SG-10002?", ALICE).json()
    assert follow["verified_customer"] is False and "DHL4019283746" not in follow["reply"]
    state = http.get(f"/threads/{thread}/state", headers=auth(AGENT)).json()
    assert state["values"].get("customer_id") is None
