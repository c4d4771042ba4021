"""Admission control (server/admission.py) against real servers: beyond max_turns_in_flight a
message is refused at once with 503 and Retry-After, nothing of it stored, on every route that
starts a turn (JSON, SSE, LangGraph runs.wait and runs.stream); admitted turns complete; reads
are never refused; /metrics counts it."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg

from supportgraph.runtime.locks import advisory_key
from tests.server_helpers import CLIENT, auth, running_server, sse_events

RETRY_AFTER = "3"


def limited_env(**extra: str) -> dict[str, str]:
    return {
        "SUPPORTGRAPH_MAX_TURNS_IN_FLIGHT": "2",
        "SUPPORTGRAPH_RETRY_AFTER_SECONDS": RETRY_AFTER,
        **extra,
    }


def new_thread(http: httpx.Client) -> str:
    created = http.post("/v1/threads", json={}, headers=auth(CLIENT))
    assert created.status_code == 201, created.text
    return str(created.json()["thread_id"])


def turns_of(http: httpx.Client, thread: str) -> list[dict[str, Any]]:
    answer = http.get(f"/v1/threads/{thread}/turns", headers=auth(CLIENT))
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def metric(http: httpx.Client, name: str) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def assert_shed(answer: httpx.Response) -> None:
    """A 503 that says so in the API's error shape, before any stream started."""
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["retry-after"] == RETRY_AFTER
    error = answer.json()["error"]
    assert error["code"] == "overloaded" and "not stored" in error["message"]
    assert error["request_id"] == answer.headers["x-request-id"]


# Each way a message starts a turn: (name, send(http, thread, text) -> (status, answer)).
def post_json(http: httpx.Client, thread: str, text: str) -> httpx.Response:
    return http.post(f"/v1/threads/{thread}/messages", json={"text": text}, headers=auth(CLIENT))


def post_sse(http: httpx.Client, thread: str, text: str) -> httpx.Response:
    headers = {**auth(CLIENT), "Accept": "text/event-stream"}
    with http.stream(
        "POST", f"/v1/threads/{thread}/messages", json={"text": text}, headers=headers
    ) as answer:
        answer.read()
    return answer


def run_wait(http: httpx.Client, thread: str, text: str) -> httpx.Response:
    body = {"assistant_id": "supportgraph", "input": {"text": text}}
    return http.post(f"/threads/{thread}/runs/wait", json=body, headers=auth(CLIENT))


def run_stream(http: httpx.Client, thread: str, text: str) -> httpx.Response:
    body = {"assistant_id": "supportgraph", "input": {"text": text}, "stream_mode": ["values"]}
    with http.stream(
        "POST", f"/threads/{thread}/runs/stream", json=body, headers=auth(CLIENT)
    ) as answer:
        answer.read()
    return answer


SENDERS: list[tuple[str, Callable[[httpx.Client, str, str], httpx.Response]]] = [
    ("json", post_json),
    ("sse", post_sse),
    ("runs.wait", run_wait),
    ("runs.stream", run_stream),
]


def completed(kind: str, answer: httpx.Response, text: str) -> bool:
    """The answer carries the whole turn for `text`."""
    if answer.status_code != 200:
        return False
    if kind == "json":
        record = answer.json()
        return bool(record["customer_text"] == text and record["reply"])
    events = sse_events(answer)
    if kind == "sse":
        name, record = events[-1]
        return bool(name == "turn" and record["customer_text"] == text and record["reply"])
    if kind == "runs.wait":
        messages = answer.json()["messages"]
    else:
        values = [data for name, data in events if name == "values"]
        messages = values[-1]["messages"] if values else []
    return bool(messages) and messages[-1]["type"] == "ai" and messages[-2]["content"] == text


def test_a_burst_beyond_max_turns_in_flight_is_shed_and_the_refused_are_not_stored(
    tmp_path: Path, data_dir: Path
) -> None:
    with (
        running_server(tmp_path / "srv", shared=data_dir, env=limited_env()) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        threads = [new_thread(http) for _ in range(12)]
        start = threading.Barrier(12)

        def send(index: int) -> tuple[str, str, httpx.Response]:
            kind, sender = SENDERS[index % len(SENDERS)]
            text = f"Where is my order? ({index})"
            with httpx.Client(base_url=url, timeout=60) as own:
                own.get("/healthz")  # the connection is open before the burst
                start.wait()
                return kind, text, sender(own, threads[index], text)

        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            burst = list(pool.map(send, range(12)))
        statuses = [answer.status_code for _, _, answer in burst]
        assert set(statuses) == {200, 503}, statuses
        assert statuses.count(200) >= 2  # the first two always get in
        for (kind, text, answer), thread in zip(burst, threads, strict=True):
            if answer.status_code == 200:
                assert completed(kind, answer, text), (kind, answer.text)
                assert [t["customer_text"] for t in turns_of(http, thread)] == [text]
            else:
                assert_shed(answer)
                assert turns_of(http, thread) == []  # not stored: the client sends it again
        assert metric(http, "supportgraph_turns_shed_total") == statuses.count(503)
        assert metric(http, "supportgraph_turns_in_flight") == 0
        # After the burst the refused messages go through when sent again.
        for (kind, text, answer), thread in zip(burst, threads, strict=True):
            if answer.status_code == 503:
                again = dict(SENDERS)[kind](http, thread, text)
                assert completed(kind, again, text), (kind, again.text)
                assert len(turns_of(http, thread)) == 1


def test_streamed_turns_hold_their_slots_to_the_end_and_reads_go_on(
    tmp_path: Path, data_dir: Path, pg_url: str
) -> None:
    """Deterministic: the test holds a thread's lock (a PostgreSQL advisory lock), so two
    streamed turns wait on it, one of them for a client that already went away. Both slots
    stay taken until the turns end: every kind of message is refused at once meanwhile."""
    env = limited_env(SUPPORTGRAPH_DATABASE_URL=pg_url)
    with (
        running_server(tmp_path / "srv", shared=data_dir, env=env) as url,
        httpx.Client(base_url=url, timeout=60) as http,
        psycopg.connect(pg_url, autocommit=True) as lock,
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool,
    ):
        busy = new_thread(http)
        lock.execute("SELECT pg_advisory_lock(%s)", (advisory_key(busy),))
        reading = pool.submit(run_stream, http, busy, "Where is my order?")
        headers = {**auth(CLIENT), "Accept": "text/event-stream"}
        with (
            httpx.Client(base_url=url, timeout=60) as leaving,
            leaving.stream(
                "POST", f"/v1/threads/{busy}/messages", json={"text": "hello"}, headers=headers
            ) as gone,
        ):
            assert gone.status_code == 200  # the stream began; the client leaves now
        deadline = time.time() + 30
        while metric(http, "supportgraph_turns_in_flight") < 2:
            assert time.time() < deadline, "the two turns were never admitted"
            time.sleep(0.05)
        time.sleep(0.5)
        assert metric(http, "supportgraph_turns_in_flight") == 2  # the client left, not its turn

        others = [new_thread(http) for _ in SENDERS]  # creating a thread is not a turn
        for (kind, sender), thread in zip(SENDERS, others, strict=True):
            started = time.perf_counter()
            answer = sender(http, thread, "Where is my order?")
            assert_shed(answer)
            assert time.perf_counter() - started < 1.0, kind  # at once, not after a queue
        # Reads are not admission-controlled, and nothing of the refused messages was stored.
        assert http.get(f"/v1/threads/{busy}", headers=auth(CLIENT)).status_code == 200
        assert http.get("/readyz").status_code == 200
        assert all(turns_of(http, thread) == [] for thread in others)
        assert metric(http, "supportgraph_turns_shed_total") == len(SENDERS)

        lock.execute("SELECT pg_advisory_unlock(%s)", (advisory_key(busy),))
        assert completed("runs.stream", reading.result(), "Where is my order?")
        while metric(http, "supportgraph_turns_in_flight") > 0:
            assert time.time() < deadline + 30, "a turn never gave its slot back"
            time.sleep(0.05)
        # The turn whose client went away completed all the same.
        texts = {t["customer_text"] for t in turns_of(http, busy)}
        assert texts == {"hello", "Where is my order?"}
        for (kind, sender), thread in zip(SENDERS, others, strict=True):
            assert completed(kind, sender(http, thread, "Where is my order?"), "Where is my order?")
