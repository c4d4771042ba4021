"""Identity over HTTP, in-process on the real app (as tests/test_http_turns.py): a thread
created with the shop's identity token starts verified; a token that proves nobody creates
nothing; and failed identity attempts are answered alike, then stop."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from supportgraph.config import Settings
from supportgraph.domain.identity import make_token
from supportgraph.server.app import create_app
from tests.server_helpers import ADMIN, CLIENT, KEYS, auth

SECRET = "test-identity-secret-0123456789"
LOOKUPS = {"find_customer_by_email", "find_customer_by_name_zip"}


def app_settings(own: Path, data_dir: Path, **overrides: Any) -> Settings:
    for name in ("models", "kb"):  # the session's trained model and KB index
        (data_dir / name).mkdir(exist_ok=True)
        (own / name).symlink_to(data_dir / name, target_is_directory=True)
    return Settings(data_dir=own, api_keys=KEYS, demo=False, rate_limit_per_minute=0, **overrides)


@pytest.fixture(scope="module")
def http_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("identity_http")


@pytest.fixture(scope="module")
def http(http_dir: Path, data_dir: Path) -> Iterator[TestClient]:
    settings = app_settings(http_dir, data_dir, identity_secret=SECRET)
    with TestClient(create_app(settings)) as client:
        yield client


def threads_created(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "checkpoints.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM sg_thread_meta").fetchone()[0])


def create(http: TestClient, **body: Any) -> Any:
    return http.post("/v1/threads", json=body, headers=auth(CLIENT))


def say(http: TestClient, thread: str, text: str) -> dict[str, Any]:
    response = http.post(
        f"/v1/threads/{thread}/messages", json={"text": text}, headers=auth(CLIENT)
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def tools(turn: dict[str, Any]) -> list[str]:
    return [call["name"] for call in turn["tool_calls"]]


def test_a_thread_created_with_a_valid_token_lists_the_customers_orders_without_an_email(
    http: TestClient,
) -> None:
    created = create(http, channel="web", identity=make_token(SECRET, "C1001"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["verified_customer"] is True
    assert body["metadata"]["verified_identity"]["customer_id"] == "C1001"
    thread = body["thread_id"]
    assert http.get(f"/v1/threads/{thread}", headers=auth(CLIENT)).json()["verified_customer"]

    turn = say(http, thread, "where is my order?")
    assert tools(turn) == ["list_customer_orders"]
    assert turn["tool_calls"][0]["args"] == {"customer_id": "C1001"}
    assert turn["verified_customer"] and turn["awaiting"] == "order_id"
    for order in ("SG-10001", "SG-10002", "SG-10003"):
        assert order in turn["reply"]
    assert "email" not in turn["reply"]

    # Replay shows how the thread came to be verified, and whose it is.
    timeline = http.get(f"/v1/threads/{thread}/timeline?show_pii=true", headers=auth(ADMIN))
    assert timeline.json()["metadata"]["verified_identity"]["via"] == "identity_token"
    listed = http.get("/v1/replay/threads", headers=auth(ADMIN)).json()
    assert {t["thread_id"]: t["customer_id"] for t in listed}[thread] == "C1001"


def test_a_token_signed_with_another_secret_is_refused_and_creates_no_thread(
    http: TestClient, http_dir: Path
) -> None:
    before = threads_created(http_dir)
    forged = make_token("not-the-shops-secret", "C1001")
    tampered = {**make_token(SECRET, "C1002"), "customer_id": "C1001"}
    for token in (forged, tampered):
        refused = create(http, identity=token)
        assert refused.status_code == 401
        assert refused.json()["error"]["message"] == "identity token not valid"
    assert threads_created(http_dir) == before


def test_an_expired_token_is_refused_with_its_reason_and_creates_no_thread(
    http: TestClient, http_dir: Path
) -> None:
    before = threads_created(http_dir)
    expired = make_token(SECRET, "C1001", ttl_seconds=60, now=time.time() - 3600)
    refused = create(http, identity=expired)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "identity token expired"
    assert threads_created(http_dir) == before


def test_a_token_for_a_customer_the_store_does_not_have_is_refused_like_a_forged_one(
    http: TestClient, http_dir: Path
) -> None:
    before = threads_created(http_dir)
    refused = create(http, identity=make_token(SECRET, "C999999"))
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "identity token not valid"
    assert threads_created(http_dir) == before


def test_metadata_cannot_claim_a_verified_identity(http: TestClient) -> None:
    created = create(http, metadata={"verified_identity": {"customer_id": "C1001"}})
    assert created.status_code == 201
    assert created.json()["verified_customer"] is False
    assert "verified_identity" not in created.json()["metadata"]
    turn = say(http, created.json()["thread_id"], "where is my order?")
    assert turn["tool_calls"] == [] and not turn["verified_customer"]


def test_failed_attempts_read_alike_then_stop_looking_anyone_up_and_offer_a_person(
    http: TestClient,
) -> None:
    thread = create(http).json()["thread_id"]
    say(http, thread, "Where is my order SG-10002?")
    # James exists but SG-10002 is Anna's; nobody has the second email: the same reply.
    known = say(http, thread, "james.wilson@example.com")
    unknown = say(http, thread, "nobody.at.all@example.com")
    assert known["reply"] == unknown["reply"]
    assert "couldn't verify" in known["reply"] and not known["verified_customer"]
    assert known["awaiting"] == unknown["awaiting"] == "email"

    last = say(http, thread, "third.guess@example.com")  # the third failure: the limit
    assert last["escalation"]["action"] == "offer" and last["awaiting"] == "handoff_offer"
    assert "member of our team" in last["reply"]
    # The right email now: no lookup is made at all, and a person is still what is offered.
    after = say(http, thread, "anna.schmidt@example.com")
    assert not LOOKUPS & set(tools(after))
    assert not after["verified_customer"] and "DHL" not in after["reply"]
    assert "member of our team" in after["reply"]
    accepted = say(http, thread, "yes")
    assert accepted["escalation"]["action"] == "handoff"


def test_without_a_secret_tokens_are_refused_with_how_to_enable_them(
    tmp_path: Path, data_dir: Path
) -> None:
    with TestClient(create_app(app_settings(tmp_path, data_dir))) as off:
        refused = create(off, identity=make_token(SECRET, "C1001"))
        assert refused.status_code == 400
        assert "SUPPORTGRAPH_IDENTITY_SECRET" in refused.json()["error"]["message"]
        assert threads_created(tmp_path) == 0
        # Threads without a token are created as always.
        assert create(off, channel="web").status_code == 201
