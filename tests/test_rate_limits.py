"""Rate limits per API key, per conversation and customer, per source address
(server/rate_limits.py, counted by the Guard).

The limiter's behaviour in-process: a small app behind the real Guard with a clock the test
moves (httpx.ASGITransport; the peer address is the transport's `client`). End to end: a real
server refuses the 31st message on one conversation while the shop's other conversations go
on, and two servers on one PostgreSQL database share the counters.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from supportgraph.config import Settings
from supportgraph.server.app import create_app
from supportgraph.server.auth import KeyRing
from supportgraph.server.guard import Guard, Limits
from supportgraph.server.observability import Metrics
from supportgraph.server.rate_limits import (
    MESSAGE_PATHS,
    MemoryCounters,
    PostgresCounters,
    RateLimits,
)
from tests.server_helpers import ADMIN, AGENT, CLIENT, KEYS, OTHER_CLIENT, auth, running_server

START = 1_800_000_000.0  # a minute boundary (divisible by 60)
FRESH = itertools.count()  # thread ids never used before


class Clock:
    def __init__(self, now: float = START + 10) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def ok(request: Any) -> JSONResponse:
    return JSONResponse({"ok": True})


def limited_app(clock: Clock, **limits: Any) -> tuple[Starlette, Metrics]:
    """The message routes' shapes behind the Guard with rate limits (defaults: all off)."""
    settings = Settings(
        api_keys=KEYS,
        rate_limit_per_minute=limits.pop("key", 0),
        customer_rate_limit_per_minute=limits.pop("customer", 0),
        address_rate_limit_per_minute=limits.pop("address", 0),
        **limits,
    )
    routes = [
        Route(path.replace("{thread_id}", "{thread}"), ok, methods=["POST"])
        for path in MESSAGE_PATHS
    ]
    routes += [
        Route("/v1/threads", ok, methods=["POST"]),
        Route("/v1/threads/{thread}", ok, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    metrics = Metrics()
    rate_limits = RateLimits(settings, KeyRing(dict(KEYS)), clock=clock)
    app.add_middleware(Guard, limits=Limits(), metrics=metrics, rate_limits=rate_limits)
    return app, metrics


@asynccontextmanager
async def client(app: Starlette, address: str = "203.0.113.7") -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def message(
    http: httpx.AsyncClient, thread: str, key: str = CLIENT, **headers: str
) -> httpx.Response:
    return await http.post(
        f"/v1/threads/{thread}/messages", json={"text": "hi"}, headers={**auth(key), **headers}
    )


async def codes(send: Callable[[], Any], times: int) -> list[int]:
    return [(await send()).status_code for _ in range(times)]


async def test_the_31st_message_on_a_conversation_is_refused_while_others_go_on() -> None:
    app, metrics = limited_app(Clock(), customer=30)
    async with client(app) as http:
        assert await codes(lambda: message(http, "th_a"), 30) == [200] * 30
        refused = await message(http, "th_a")
        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["code"] == "rate_limited"
        assert error["message"].startswith("too many messages on this conversation (limit 30")
        assert error["request_id"] == refused.headers["x-request-id"]
        assert 1 <= int(refused.headers["retry-after"]) <= 120
        # The same key's other conversations, and reading this one, are not limited by it.
        assert (await message(http, "th_b")).status_code == 200
        assert (await http.get("/v1/threads/th_a", headers=auth(CLIENT))).status_code == 200
        # A LangGraph run on the same thread is a message on the same conversation.
        run = await http.post("/threads/th_a/runs/wait", json={}, headers=auth(CLIENT))
        assert run.status_code == 429
    sample = metrics.registry.get_sample_value(
        "supportgraph_rate_limited_total", {"limit": "thread"}
    )
    assert sample == 2


async def test_a_customer_or_session_id_is_limited_across_conversations() -> None:
    app, _ = limited_app(Clock(), customer=5)
    async with client(app) as http:
        as_ann = {"X-Customer-Id": "cust-ann"}
        assert await codes(lambda: message(http, f"th_{next(FRESH)}", **as_ann), 5) == [200] * 5
        refused = await message(http, "th_new", **as_ann)
        assert refused.status_code == 429
        assert refused.json()["error"]["message"].startswith("too many messages from this customer")
        # Another customer of the same shop key, and the same id under another shop's key.
        assert (await message(http, "th_other", **{"X-Customer-Id": "cust-bob"})).status_code == 200
        assert (await message(http, "th_x", OTHER_CLIENT, **as_ann)).status_code == 200
        session = {"X-Session-Id": "s-1"}
        assert await codes(lambda: message(http, f"th_{next(FRESH)}", **session), 5) == [200] * 5
        refused = await message(http, "th_next", **session)
        assert refused.json()["error"]["message"].startswith("too many messages in this session")


async def test_an_address_is_limited_and_x_forwarded_for_counts_only_when_trusted() -> None:
    app, _ = limited_app(Clock(), address=4)
    async with client(app, "198.51.100.1") as http:
        spoofed = {"X-Forwarded-For": "192.0.2.99"}
        # Every request of a client key counts (creating threads too), a forged header is ignored.
        sent = [await http.post("/v1/threads", json={}, headers={**auth(CLIENT), **spoofed})]
        sent += [await message(http, f"th_{i}", **spoofed) for i in range(3)]
        assert [r.status_code for r in sent] == [200] * 4
        refused = await message(http, "th_9", OTHER_CLIENT, **spoofed)  # keys share the address
        assert refused.status_code == 429
        assert refused.json()["error"]["message"].startswith("too many requests from this address")
    async with client(app, "198.51.100.2") as http:  # another address
        assert (await message(http, "th_9")).status_code == 200

    trusted, _ = limited_app(Clock(), address=2, trust_forwarded_for=True)
    async with client(trusted, "10.0.0.1") as proxy:  # every request through one proxy
        first = {"X-Forwarded-For": "192.0.2.1, 10.0.0.5"}
        assert await codes(lambda: message(proxy, "th_a", **first), 3) == [200, 200, 429]
        second = {"X-Forwarded-For": "192.0.2.2"}
        assert (await message(proxy, "th_b", **second)).status_code == 200


async def test_the_key_ceiling_is_the_whole_shop_and_a_hammered_conversation_spends_only_its_own() -> (
    None
):
    app, _ = limited_app(Clock(), key=12, customer=3)
    async with client(app) as http:
        # 20 attempts on one conversation: 3 through, 17 refused by the conversation's limit,
        # which are not charged to the shop's key.
        assert await codes(lambda: message(http, "th_hammer"), 20) == [200] * 3 + [429] * 17
        through = [await message(http, f"th_{i}") for i in range(9)]
        assert [r.status_code for r in through] == [200] * 9
        refused = await message(http, "th_last")
        assert refused.status_code == 429
        assert refused.json()["error"]["message"].startswith("too many requests for this API key")
        # The other key (another shop) is not affected.
        assert (await message(http, "th_last", OTHER_CLIENT)).status_code == 200


async def test_agent_and_admin_keys_are_limited_per_key_only_and_zero_turns_a_limit_off() -> None:
    app, _ = limited_app(Clock(), customer=2, address=2)
    async with client(app) as http:
        # An agent console works many threads from one address.
        for key in (AGENT, ADMIN):
            assert [(await message(http, "th_a", key)).status_code for _ in range(5)] == [200] * 5
        assert await codes(lambda: message(http, "th_c"), 3) == [200, 200, 429]
        # Without a known key nothing is counted: the app's route answers 401 (this one, 200).
        unknown = {"Authorization": "Bearer not-a-key"}
        anonymous = [
            await http.post("/v1/threads/th_c/messages", headers=unknown) for _ in range(5)
        ]
        assert [r.status_code for r in anonymous] == [200] * 5
    unlimited, _ = limited_app(Clock())  # every limit 0
    async with client(unlimited) as http:
        assert await codes(lambda: message(http, "th_a"), 50) == [200] * 50


async def test_the_window_slides_across_the_minute_and_retry_after_is_when_it_goes_through() -> (
    None
):
    clock = Clock(START + 59)  # a full minute's budget spent in its last second
    app, _ = limited_app(clock, customer=30)
    async with client(app) as http:
        assert await codes(lambda: message(http, "th_a"), 30) == [200] * 30
        clock.now = START + 61  # a fixed window would allow 30 more right now
        refused = await message(http, "th_a")
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert wait == 3  # 30 * (1 - 4/60) + 2 <= 30
        clock.now += wait
        assert (await message(http, "th_a")).status_code == 200
        clock.now = START + 180  # two quiet minutes later the whole budget is back
        assert await codes(lambda: message(http, "th_a"), 30) == [200] * 30


async def test_memory_counters_keep_the_last_two_windows_only() -> None:
    counters = MemoryCounters()
    for bucket in ("a", "b", "c"):
        assert await counters.bump(bucket, 100) == (1, 0)
    assert await counters.bump("a", 101) == (1, 1)
    assert await counters.bump("a", 101) == (2, 1)
    assert len(counters) == 4  # three buckets in window 100, one in 101
    assert await counters.bump("a", 103) == (1, 0)
    assert len(counters) == 1


def test_the_message_buckets_are_the_routes_that_admit_turns(tmp_path: Path) -> None:
    """Every route that takes a turn slot (it documents the 503) is counted as a message."""
    app = create_app(Settings(data_dir=tmp_path, api_keys=KEYS))
    spec = app.openapi()
    admitting = {
        path
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "503" in operation["responses"] and path not in ("/readyz",)
    }
    assert admitting == set(MESSAGE_PATHS)


# -- end to end --------------------------------------------------------------------------------


def test_a_real_server_limits_a_conversation_and_a_customer_not_the_shop(
    tmp_path: Path, data_dir: Path
) -> None:
    with (
        running_server(tmp_path / "srv", shared=data_dir, customer_rate_limit=30) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        wait_for_a_fresh_minute()
        busy, calm = (new_thread(http) for _ in range(2))
        answers = [say(http, busy, f"message {i}") for i in range(31)]
        assert [a.status_code for a in answers] == [200] * 30 + [429]
        assert "too many messages on this conversation" in answers[-1].text
        assert int(answers[-1].headers["retry-after"]) >= 1
        # The shop's other conversations, with the same client key, go on.
        assert say(http, calm, "Where is my order?").status_code == 200
        # The refused message was not stored: 30 turns.
        turns = http.get(f"/v1/threads/{busy}/turns", headers=auth(CLIENT)).json()
        assert [t["customer_text"] for t in turns][-1] == "message 29" and len(turns) == 30

        # One customer (X-Customer-Id) across several conversations of the same key.
        customer = {"X-Customer-Id": "shop-customer-42"}
        threads = [new_thread(http) for _ in range(4)]
        wait_for_a_fresh_minute()
        spread = [say(http, threads[i % 4], f"hello {i}", **customer) for i in range(31)]
        assert [a.status_code for a in spread] == [200] * 30 + [429]
        assert "too many messages from this customer" in spread[-1].text
        assert say(http, threads[0], "hello again").status_code == 200  # no customer id sent
        metrics = http.get("/metrics").text
        assert 'supportgraph_rate_limited_total{limit="thread"} 1.0' in metrics
        assert 'supportgraph_rate_limited_total{limit="customer"} 1.0' in metrics


def test_two_servers_on_postgres_share_a_conversations_counter(
    tmp_path: Path, data_dir: Path, pg_url: str
) -> None:
    env = {"SUPPORTGRAPH_DATABASE_URL": pg_url}
    with (
        running_server(tmp_path / "one", shared=data_dir, customer_rate_limit=30, env=env) as one,
        running_server(tmp_path / "two", shared=data_dir, customer_rate_limit=30, env=env) as two,
        httpx.Client(base_url=one, timeout=120) as first,
        httpx.Client(base_url=two, timeout=120) as second,
    ):
        thread = new_thread(first)
        wait_for_a_fresh_minute()
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            sent = [
                pool.submit(say, http, thread, f"message {i} via {name}")
                for i in range(20)
                for name, http in (("one", first), ("two", second))
            ]
            statuses = [future.result().status_code for future in sent]
        assert statuses.count(200) == 30 and statuses.count(429) == 10
        # Both servers refused some: the count is the database's, not one worker's.
        assert 429 in statuses[0::2] and 429 in statuses[1::2]
        turns = first.get(f"/v1/threads/{thread}/turns", headers=auth(CLIENT)).json()
        assert len(turns) == 30
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT bucket, count FROM sg_rate_counters").fetchall()
        versions = conn.execute(
            "SELECT version FROM sg_migrations WHERE component = 'rate_limits'"
        ).fetchall()
    assert versions == [(1,)]
    # Bucket names hold hashes: no thread id, customer id or address in the table.
    assert not any(thread in bucket or "127.0.0.1" in bucket for bucket, _ in rows)
    assert sorted(count for bucket, count in rows if bucket.startswith("thread:")) == [40]


async def test_postgres_counters_upsert_and_sweep_old_windows(pg_url: str) -> None:
    counters = await PostgresCounters.open(pg_url)
    try:
        results = await asyncio.gather(*(counters.bump("thread:x", 500) for _ in range(25)))
        assert sorted(current for current, _ in results) == list(range(1, 26))  # atomic
        assert await counters.bump("thread:x", 501) == (1, 25)
        await counters.bump("thread:y", 503)  # a new minute: windows before 502 are deleted
    finally:
        await counters.close()
    with psycopg.connect(pg_url) as conn:
        left = conn.execute('SELECT bucket, "window", count FROM sg_rate_counters').fetchall()
    assert left == [("thread:y", 503, 1)]


# -- helpers -------------------------------------------------------------------------------------


def wait_for_a_fresh_minute(margin: float = 15.0) -> None:
    """Start a burst early enough to end within the minute, so that it is counted in one
    window (the sliding estimate is exact while the previous window is empty)."""
    into = time.time() % 60
    if into > 60 - margin:
        time.sleep(60 - into + 0.1)


def new_thread(http: httpx.Client) -> str:
    created = http.post("/v1/threads", json={}, headers=auth(CLIENT))
    assert created.status_code == 201, created.text
    return str(created.json()["thread_id"])


def say(http: httpx.Client, thread: str, text: str, **headers: str) -> httpx.Response:
    return http.post(
        f"/v1/threads/{thread}/messages", json={"text": text}, headers={**auth(CLIENT), **headers}
    )
