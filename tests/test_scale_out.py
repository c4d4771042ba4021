"""Scale-out on PostgreSQL with real processes: two servers on one database stand for two hosts
(the test picks the server of each message), and host B runs `--workers 2` (uvicorn's worker
processes: three processes share the conversations).

- One thread's messages, sent to both hosts at once, run one at a time, each exactly once,
  each reply answering its own message; other threads run meanwhile.
- Host A killed with SIGKILL in the middle of turns (confirmed cancellations among them): the
  client sends what failed to host B with the same client message id; nothing it was told is
  lost, no turn is lost or doubled, no order is cancelled (refunded) twice, A's threads go on
  on B, and A, restarted, finishes what it left in flight.
- `supportgraph serve` on PostgreSQL applies the migrations before its workers start and needs
  no SQLite lease locks; on SQLite it still warns.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

import supportgraph
from supportgraph.backends import pgdb
from supportgraph.backends.loader import load_store_file
from supportgraph.cli import app
from supportgraph.runtime.agent import SupportAgent
from supportgraph.runtime.databases import schema_status
from tests.pg import fresh_database
from tests.server_helpers import CLIENT, PIDS, auth, running_server

STORE = load_store_file(Path(supportgraph.__file__).parent / "brands" / "demo" / "store.json")
# Products whose price question is answered with the product's name (and never escalated when
# asked one after another on one thread, in any order).
PRODUCTS = (
    "Merino Wool Sweater",
    "Classic Denim Jacket",
    "Chelsea Boots",
    "Linen Shirt",
    "Canvas Tote",
    "Trail Runner Sneakers",
    "Quilted Puffer Jacket",
    "Waterproof Hiking Boots",
    "Cashmere Crew Neck",
    "Leather Belt",
)


@dataclass
class Hosts:
    a: str  # one process (`--workers 1`): the host that is killed
    b: str  # `--workers 2`
    a_dir: Path
    shared: Path  # the session's trained models and KB index
    env: dict[str, str]
    url: str  # the database


@contextmanager
def started_together(*servers: AbstractContextManager[str]) -> Iterator[list[str]]:
    """Start several servers at once (each loads its models for ~20 s); stop them all."""
    with ThreadPoolExecutor(len(servers)) as pool:
        entering = [pool.submit(server.__enter__) for server in servers]
        wait(entering)
    with ExitStack() as stack:
        for server, future in zip(servers, entering, strict=True):
            if future.exception() is None:
                stack.push(server.__exit__)
        yield [future.result() for future in entering]


@pytest.fixture(scope="module")
def hosts(
    data_dir: Path, agent: SupportAgent, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hosts]:
    # Fit the session's models and index its KB once, here: the servers then read them (three
    # processes starting on a cold cache would wait on one fit for longer than they may take).
    agent.warm()
    root = tmp_path_factory.mktemp("scale_out")
    with fresh_database() as url:
        # No `db upgrade` first: the two hosts migrate the fresh database as they start.
        env = {"SUPPORTGRAPH_DATABASE_URL": url}
        with started_together(
            # Three processes loading their models on two cores: slower than one alone.
            running_server(root / "host-a", shared=data_dir, env=env, ready_within=180),
            running_server(root / "host-b", shared=data_dir, env=env, workers=2, ready_within=180),
        ) as (a, b):
            yield Hosts(a, b, root / "host-a", data_dir, env, url)


# -- the database, read directly ----------------------------------------------------------


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with pgdb.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def transcript(url: str, thread: str) -> list[dict[str, Any]]:
    """The thread's TurnRecords as stored, in commit order."""
    rows = query(url, "SELECT record FROM sg_turns WHERE thread_id = %s ORDER BY seq", (thread,))
    return [json.loads(row[0]) for row in rows]


def in_flight(url: str) -> dict[str, str]:
    """thread -> kind of every message whose turn has not committed (or whose recovered
    record still waits for the customer's retry)."""
    return dict(query(url, "SELECT thread_id, kind FROM sg_inflight"))  # type: ignore[arg-type]


# -- the client ---------------------------------------------------------------------------


async def new_thread(client: httpx.AsyncClient, host: str) -> str:
    r = await client.post(f"{host}/v1/threads", json={"locale": "en"})
    assert r.status_code == 201, r.text
    return str(r.json()["thread_id"])


async def post(
    client: httpx.AsyncClient, host: str, thread: str, text: str, message_id: str
) -> httpx.Response:
    return await client.post(
        f"{host}/v1/threads/{thread}/messages",
        json={"text": text, "client_message_id": message_id},
    )


def customer() -> httpx.AsyncClient:
    return httpx.AsyncClient(headers=auth(CLIENT), timeout=120)


def price_question(product: str) -> str:
    return f"How much is the {product}?"


# -- one thread, many hosts ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("spread", ["both hosts", "two uvicorn workers"])
async def test_one_threads_messages_sent_at_once_run_one_at_a_time_each_once(
    hosts: Hosts, spread: str
) -> None:
    """Ten messages on one thread, all in flight at once, alternating host A and host B (or
    all to B, whose two workers take them as the kernel hands out connections)."""
    targets = [hosts.a, hosts.b] * 5 if spread == "both hosts" else [hosts.b] * 10
    texts = [price_question(product) for product in PRODUCTS]
    ids = [f"price-{n}" for n in range(10)]
    async with customer() as client:
        thread = await new_thread(client, hosts.a)
        responses = await asyncio.gather(
            *(
                post(client, host, thread, text, message_id)
                for host, text, message_id in zip(targets, texts, ids, strict=True)
            )
        )
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    answers = [r.json() for r in responses]
    for text, product, message_id, answer in zip(texts, PRODUCTS, ids, answers, strict=True):
        # Each reply answers its own message (a mixed-up turn would name another product).
        assert answer["customer_text"] == text and answer["client_message_id"] == message_id
        assert product in answer["reply"], answer["reply"]
    assert sorted(answer["turn"] for answer in answers) == list(range(1, 11))
    stored = transcript(hosts.url, thread)
    # Turns 1..10 in commit order, each message once, as its client was told.
    assert [record["turn"] for record in stored] == list(range(1, 11))
    assert sorted(record["client_message_id"] for record in stored) == sorted(ids)
    told = {answer["turn"]: answer for answer in answers}
    for record in stored:
        assert record["reply"] == told[record["turn"]]["reply"]
        assert record["customer_text"] == told[record["turn"]]["customer_text"]
    # One at a time: each turn started (took the thread) after the one before it ended. A
    # turn's span is `latency_ms` up to its record's `created_at`, which is measured a few
    # database reads before the span ends: hence the small tolerance.
    spans = [(r["created_at"] - r["latency_ms"] / 1000, r["created_at"]) for r in stored]
    for (_, ended), (began, _) in itertools.pairwise(spans):
        assert began > ended - 0.1, spans


@pytest.mark.slow
async def test_different_threads_run_at_the_same_time(hosts: Hosts) -> None:
    """Ten threads, one message each, all at once on both hosts: their turns overlap, so the
    batch takes well under the sum of the turns' own durations (which it would take at least,
    were the threads waiting on each other)."""
    async with customer() as client:
        threads = [await new_thread(client, host) for host in [hosts.a, hosts.b] * 5]
        began = time.perf_counter()
        responses = await asyncio.gather(
            *(
                post(client, host, thread, price_question(product), "price-1")
                for host, thread, product in zip(
                    [hosts.a, hosts.b] * 5, threads, PRODUCTS, strict=True
                )
            )
        )
        wall = time.perf_counter() - began
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    answers = [r.json() for r in responses]
    assert [answer["turn"] for answer in answers] == [1] * 10
    serial = sum(answer["latency_ms"] for answer in answers) / 1000
    assert wall < 0.6 * serial, f"batch {wall:.2f} s, turns' own durations sum to {serial:.2f} s"


# -- a host killed mid-turn ---------------------------------------------------------------


@dataclass
class Conversation:
    texts: list[str]
    expected: list[str]  # what each reply says
    order: str | None = None  # the order it cancels
    thread: str = ""
    told: dict[int, dict[str, Any]] = field(default_factory=dict)  # message -> 2xx answer

    def message_id(self, n: int) -> str:
        return f"m{n + 1}"

    async def send(self, client: httpx.AsyncClient, host: str, n: int) -> None:
        """Message n to host, kept in `told` if the client gets its answer (a 2xx)."""
        try:
            r = await post(client, host, self.thread, self.texts[n], self.message_id(n))
        except httpx.HTTPError:
            return  # the host went away mid-request
        if r.is_success:
            self.told[n] = r.json()

    async def must_send(self, client: httpx.AsyncClient, host: str, n: int) -> None:
        r = await post(client, host, self.thread, self.texts[n], self.message_id(n))
        assert r.status_code == 200, r.text
        self.told[n] = r.json()
        assert self.expected[n] in r.json()["reply"], r.json()["reply"]


def pending_orders(count: int) -> list[tuple[str, str]]:
    """(order id, its customer's email) of pending orders of `count` different customers."""
    emails = {c.id: c.email for c in STORE.customers if c.email}
    found: dict[str, str] = {}
    for order in STORE.orders:
        if order.status == "pending" and order.customer_id in emails.keys() - found.keys():
            found[order.customer_id] = order.id
    picked = [(order_id, emails[customer]) for customer, order_id in found.items()]
    assert len(picked) >= count, "the demo store has too few pending orders"
    return picked[:count]


def paid(order_id: str) -> float:
    """What the order's customer paid or had authorized before (refunded on cancel)."""
    order = next(o for o in STORE.orders if o.id == order_id)
    return sum(p.amount for p in order.payments if p.status in ("paid", "authorized"))


def conversations() -> list[Conversation]:
    """14 confirmed cancellations, then 6 conversations of price questions: 20 threads."""
    out = [
        Conversation(
            [f"I want to cancel my order {order}", email, "yes", f"Where is my order {order}?"],
            [
                "your account",
                f"I can cancel order {order}",
                f"order {order} is cancelled",
                f"Order {order} was cancelled",
            ],
            order,
        )
        for order, email in pending_orders(14)
    ]
    for n in range(6):
        products = [PRODUCTS[(n + k) % len(PRODUCTS)] for k in range(4)]
        out.append(Conversation([price_question(p) for p in products], products))
    return out


async def first_write(url: str, threads: list[str], within: float = 60) -> str:
    """Wait until one of these threads' cancellations is committed in the store; its key."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            cursor = await conn.execute(
                "SELECT key FROM writes WHERE action = 'cancel_order' "
                "AND split_part(key, ':', 1) = ANY(%s)",
                (threads,),
            )
            row = await cursor.fetchone()
            if row is not None:
                return str(row[0])
            await asyncio.sleep(0.002)
    raise AssertionError(f"no cancellation on host A within {within} s")


@pytest.mark.slow
async def test_a_host_killed_mid_turn_loses_nothing_and_applies_no_write_twice(
    hosts: Hosts,
) -> None:
    a, b = hosts.a, hosts.b
    talks = conversations()
    cancels = [t for t in talks if t.order]
    # Where each third message goes: ten of the yeses to A, three to B, one (`late`) to A a
    # few ms before the kill; the six chats' questions alternate.
    late = cancels[13]
    third = [a] * 10 + [b] * 3 + [a] + [a, b] * 3
    assert len(third) == len(talks)
    host_of_third = {id(talk): host for talk, host in zip(talks, third, strict=True)}

    async with customer() as client:
        for n, talk in enumerate(talks):
            talk.thread = await new_thread(client, [a, b][n % 2])

        # 1. Two messages each, on alternating hosts, all conversations at once.
        async def opening(n: int, talk: Conversation) -> None:
            await talk.must_send(client, [a, b][n % 2], 0)
            await talk.must_send(client, [b, a][n % 2], 1)

        await asyncio.gather(*(opening(n, talk) for n, talk in enumerate(talks)))

        # 2. The third messages at once. A is killed as soon as one of its yeses has written
        # its cancellation (that turn is past its write, a few ms from its answer; A's other
        # turns are at every step of theirs), 4 ms after one more yes was sent to A.
        sending = [
            asyncio.create_task(talk.send(client, host_of_third[id(talk)], 2))
            for talk in talks
            if talk is not late
        ]
        await first_write(hosts.url, [t.thread for t in cancels[:10]])
        sending.append(asyncio.create_task(late.send(client, a, 2)))
        await asyncio.sleep(0.004)
        os.kill(PIDS[a], signal.SIGKILL)
        await asyncio.gather(*sending)

        failed = [t for t in talks if 2 not in t.told]
        assert failed and {host_of_third[id(t)] for t in failed} == {a}
        left = in_flight(hosts.url)
        # Confirmations were mid-turn when A died: taken on (kept in flight), not committed.
        assert any(t.order and left.get(t.thread) == "customer" for t in failed), left
        # Two customers give up for now (their messages wait for A's restart); the others
        # send again to B, with the same message id, and go on talking there.
        abandoned = [t for t in failed if t.order and left.get(t.thread) == "customer"][:2]
        for talk in failed:
            if talk not in abandoned:
                await talk.must_send(client, b, 2)
        await asyncio.gather(*(t.must_send(client, b, 3) for t in talks if t not in abandoned))
        # B finished each message A left in flight as its customer sent it again.
        assert in_flight(hosts.url) == {t.thread: "customer" for t in abandoned}

        # 3. A restarts (the same data dir and database, a new port). Before it serves, it
        # finishes what it left in flight and keeps each record for its customer's retry.
        (hosts.a_dir / "server.log").rename(hosts.a_dir / "server-killed.log")
        with running_server(
            hosts.a_dir, shared=hosts.shared, env=hosts.env, ready_within=180
        ) as restarted:
            assert in_flight(hosts.url) == {t.thread: "recovered" for t in abandoned}
            for talk in abandoned:
                kept = transcript(hosts.url, talk.thread)[-1]
                assert kept["turn"] == 3 and kept["recovered"] and kept["customer_text"] == "yes"
                await talk.must_send(client, restarted, 2)
                assert talk.told[2]["reply"] == kept["reply"]
            # Each record kept for a retry was handed out, once: nothing is left in flight.
            left_after_retries = in_flight(hosts.url)
            for talk in abandoned:
                await talk.must_send(client, restarted, 3)
    assert in_flight(hosts.url) == {}

    # Every conversation: turns 1..4, each message once, as its client was told.
    for talk in talks:
        stored = transcript(hosts.url, talk.thread)
        assert [r["turn"] for r in stored] == [1, 2, 3, 4], (talk.texts, stored)
        assert [r["customer_text"] for r in stored] == talk.texts
        assert [r["client_message_id"] for r in stored] == ["m1", "m2", "m3", "m4"]
        for n, answer in talk.told.items():
            assert (answer["turn"], answer["reply"]) == (stored[n]["turn"], stored[n]["reply"])
            assert talk.expected[n] in answer["reply"], answer["reply"]
    # Each cancellation written once, by its own conversation, and refunded once.
    writes = query(hosts.url, "SELECT key, target FROM writes WHERE action = 'cancel_order'")
    cancelled = [str(talk.order) for talk in cancels]
    assert sorted(target for _, target in writes) == sorted(cancelled)
    for talk, order_id in zip(cancels, cancelled, strict=True):
        (key,) = [key for key, target in writes if target == order_id]
        assert key.startswith(talk.thread + ":"), key
        (doc,) = query(hosts.url, "SELECT doc FROM orders WHERE id = %s", (order_id,))[0]
        order = json.loads(doc)
        refunds = [p["amount"] for p in order["payments"] if p["status"] == "refunded"]
        assert order["status"] == "cancelled"
        assert refunds == ([-paid(order_id)] if paid(order_id) else []), order["payments"]
    # Checked last, so that everything above is known whatever this says.
    assert left_after_retries == {}, (
        "a record recovered at start and kept for its customer's retry stays in sg_inflight "
        "when that retry carries its client message id (SupportAgent.send answers it from "
        "record_for_message and never takes the kept record): the customer's next message "
        "with the same text and no id would be answered with the old record"
    )


# -- `supportgraph serve` ------------------------------------------------------------------


@pytest.fixture
def serve_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`supportgraph serve` up to the point where uvicorn would start its workers: what it
    would start them with, and the environment they would inherit."""
    import uvicorn

    from supportgraph.server import observability

    calls: list[dict[str, Any]] = []

    def run(*args: Any, **kwargs: Any) -> None:
        calls.append({**kwargs, "process_locks": os.environ.get("SUPPORTGRAPH_PROCESS_LOCKS")})

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(observability, "setup_json_logging", lambda: None)
    # serve sets these for its workers: restored after the test.
    for name in ("API_KEYS", "DEMO", "PROCESS_LOCKS", "DATA_DIR", "DATABASE_URL"):
        monkeypatch.delenv(f"SUPPORTGRAPH_{name}", raising=False)
    return calls


@pytest.mark.parametrize("workers", [1, 3])
def test_serve_on_postgres_migrates_before_its_workers_start_and_needs_no_sqlite_locks(
    serve_calls: list[dict[str, Any]],
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    monkeypatch.setenv("SUPPORTGRAPH_DATABASE_URL", pg_url)
    result = CliRunner().invoke(
        app, ["serve", "--workers", str(workers), "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "database: transcript: applied 1 transcript tables" in result.output
    assert all(v.applied == v.known for v in schema_status(pg_url)), schema_status(pg_url)
    assert "SQLite" not in result.output
    assert [(c["workers"], c["process_locks"]) for c in serve_calls] == [(workers, None)]


def test_serve_on_sqlite_with_workers_warns_and_locks_across_processes(
    serve_calls: list[dict[str, Any]], tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "shares one SQLite database" in result.stderr
    assert [(c["workers"], c["process_locks"]) for c in serve_calls] == [(2, "true")]


def test_serve_stops_with_the_reason_when_the_database_cannot_be_reached(
    serve_calls: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database() as url:
        pass  # dropped: the server answers, the database is gone
    monkeypatch.setenv("SUPPORTGRAPH_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and serve_calls == []
    assert "PostgreSQL database not ready" in result.stderr and "does not exist" in result.stderr
