"""Erasing a customer ("right to be forgotten") everywhere their data went, and reading
addresses out of sentences without the words around them."""

from __future__ import annotations

import json
import os
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from supportgraph.config import Settings
from supportgraph.domain.schema import Address
from supportgraph.nlu.requests import parse_address
from supportgraph.runtime.agent import SupportAgent, sandbox_settings
from tests.conftest import converse
from tests.server_helpers import ADMIN, CLIENT, auth, running_server

# Anna Schmidt (C1001) in the demo store, and what she writes about herself.
EMAIL = "anna.schmidt@example.com"
PHONE = "+49 151 2345 6789"
STREET, NEW_STREET = "Kastanienallee 21", "Rosenweg 77"
NAME = "Anna Schmidt"
INTRODUCTION = (
    f"Hi, I'm {NAME}, my phone is {PHONE} and I live at {STREET}, 10115 Berlin. "
    "Do you ship to Austria?"
)
NEW_ADDRESS = f"I want to change my default address to {NEW_STREET}, 10117 Berlin"
NEEDLES = [EMAIL, PHONE, "4915123456789", STREET, NEW_STREET, NAME]

# Per served language: sentences with an address (what must be kept) or without one (None).
ADDRESSES: dict[str, list[tuple[str, dict[str, str] | None]]] = {
    "en": [
        (
            "I want to change my default address to Rosenweg 77, 10117 Berlin",
            {"line1": "Rosenweg 77", "zip": "10117", "city": "Berlin"},
        ),
        (
            "please update my address to 221B Baker Street, London NW1 6XE",
            {"line1": "221B Baker Street", "zip": "NW1 6XE", "city": "London", "country": "GB"},
        ),
        (
            "My new address is 1600 Amsterdam Ave, New York, NY 10023",
            {
                "line1": "1600 Amsterdam Ave",
                "zip": "10023",
                "city": "New York",
                "state": "NY",
                "country": "US",
            },
        ),
        ("Do you ship to 10115 Berlin?", None),
        ("Where is my order SG-10002?", None),
    ],
    "es": [
        (
            "Quiero cambiar mi dirección a Calle Mayor 5, 28013 Madrid",
            {"line1": "Calle Mayor 5", "zip": "28013", "city": "Madrid"},
        ),
        (
            "Cambia la dirección del pedido SG-10005 a la Calle de la Paz, 4, 28010 Madrid, España",
            {"line1": "Calle de la Paz, 4", "zip": "28010", "city": "Madrid", "country": "ES"},
        ),
        ("¿Enviáis a 28013 Madrid?", None),
    ],
    "fr": [
        (
            "Je voudrais changer mon adresse: 12 rue de la Paix, 75002 Paris",
            {"line1": "12 rue de la Paix", "zip": "75002", "city": "Paris"},
        ),
        (
            "J'ai 2 colis en attente, livrez-les au 12 rue de la Paix, 75002 Paris",
            {"line1": "12 rue de la Paix", "zip": "75002", "city": "Paris"},
        ),
        (
            "Je voudrais changer l'adresse de mon compte pour 10 rue de la Roquette, 75011 Paris",
            {"line1": "10 rue de la Roquette", "zip": "75011", "city": "Paris"},
        ),
        ("Livrez-vous à 75002 Paris ?", None),
    ],
    "de": [
        (
            "Meine neue Adresse ist Rosenweg 77, 10117 Berlin",
            {"line1": "Rosenweg 77", "zip": "10117", "city": "Berlin"},
        ),
        (
            "Bitte liefern Sie an Unter den Linden 77, 10117 Berlin, Deutschland",
            {"line1": "Unter den Linden 77", "zip": "10117", "city": "Berlin", "country": "DE"},
        ),
        ("Liefert ihr nach 10117 Berlin?", None),
    ],
}


@pytest.mark.parametrize("lang", sorted(ADDRESSES))
def test_an_address_keeps_only_the_address(lang: str) -> None:
    for text, expected in ADDRESSES[lang]:
        assert parse_address(text) == expected, text


# -- erasure -----------------------------------------------------------------------------------


def files_naming(root: Path, needles: list[str] = NEEDLES) -> dict[str, list[str]]:
    """Every file under `root` (databases, their -wal and -shm files, sandboxes, and the
    linked models and KB index), read as bytes: which needles it holds, in UTF-8 or UTF-16."""
    found: dict[str, list[str]] = {}
    for folder, _, names in os.walk(root, followlinks=True):
        for name in names:
            path = Path(folder, name)
            data = path.read_bytes()
            hits = [
                n
                for n in needles
                if n.encode() in data or n.encode("utf-16-le") in data or n.lower().encode() in data
            ]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


def rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def erased_threads_left(db: Path, threads: set[str]) -> dict[str, int]:
    marks = ",".join("?" for _ in threads)
    tables = [
        "sg_turns",
        "sg_steps",
        "sg_threads",
        "sg_handoffs",
        "sg_thread_meta",
        "sg_branches",
        "checkpoints",
        "writes",
    ]
    left = {
        t: rows(db, f"SELECT count(*) FROM {t} WHERE thread_id IN ({marks})", tuple(threads))[0][0]
        for t in tables
    }
    return {t: n for t, n in left.items() if n}


async def test_erasing_a_customer_leaves_no_trace_anywhere(data_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "erase"
    async with SupportAgent.open(sandbox_settings(Settings(data_dir=data_dir), root)) as agent:
        store = agent.store
        # Another customer (Carlos), verified, whose data must stay as it is.
        await converse(
            agent, "carlos", "¿Dónde está mi pedido SG-10005?", "carlos.garcia@example.com"
        )
        # Anna: verified by email; only name, phone and street (never linked to her id); a
        # handoff (logged in the CRM with no customer id); a new default address (in the
        # writes log); and replay forks of her thread and of Carlos's (sandbox store copies).
        await converse(agent, "verified", "Where is my order SG-10002?", EMAIL)
        await converse(agent, "unverified", INTRODUCTION)
        handoff = await converse(agent, "handoff", NEW_ADDRESS, EMAIL, "I want to talk to a human")
        assert handoff[-1].awaiting == "human_agent"
        await converse(agent, "address", NEW_ADDRESS, EMAIL, "yes")
        anna = await store.get_customer("C1001")
        assert anna is not None and anna.address is not None
        assert anna.address.line1 == NEW_STREET
        her_fork = await agent.fork("verified", 2, EMAIL)
        his_fork = await agent.fork("carlos", 1, "Where is my order SG-10005?")
        anna_threads = {"verified", "unverified", "handoff", "address", her_fork.branch_id}
        # Where the red team found her data afterwards is where it is now.
        assert any(i["customer_id"] is None and EMAIL in i["summary"] for i in store.interactions())
        assert any(NEW_STREET in json.dumps(w["result"]) for w in store.writes_log())
        assert any(p.endswith("-wal") for p in files_naming(root))
        assert len(list((root / "sandboxes").glob("*.db"))) == 2

        export = await agent.export_customer("C1001")
        assert export is not None
        assert {t["thread_id"] for t in export["threads"]} == anna_threads
        assert any(
            i["customer_id"] is None and i["kind"] == "transfer_to_human"
            for i in export["interactions"]
        )

        carlos = (
            await store.get_customer("C1002"),
            await store.list_orders("C1002"),
            await agent.history("carlos"),
            await agent.history(his_fork.branch_id),
            await agent.state("carlos"),
        )
        assert await agent.erase_customer("C1001") is True

        # While the agent is open: no file holds her data, -wal and -shm files included.
        assert files_naming(root) == {}
        # Her conversations are gone from the transcript and the checkpoints.
        assert erased_threads_left(root / "checkpoints.db", anna_threads) == {}
        for (blob,) in rows(root / "checkpoints.db", "SELECT steps FROM sg_steps"):
            assert not any(n in zlib.decompress(blob).decode() for n in NEEDLES)
        for thread_id in anna_threads:
            assert not await agent.thread_exists(thread_id)  # no checkpoint, record or owner
        # The store: no profile, no CRM rows, no before-images, writes-log results scrubbed.
        assert await store.get_customer("C1001") is None
        assert store.interactions() == []
        assert not any(n in json.dumps(store.writes_log()) for n in NEEDLES)
        undo = json.dumps(rows(root / "store.db", "SELECT * FROM write_undo"))
        assert not any(n in undo for n in NEEDLES)
        # A retried write is still answered from the log, never done again.
        retry = await store.update_customer_address(
            "C1001", Address(line1="x 1", city="y"), "address:2:modify_customer_address"
        )
        assert retry == {"erased": True, "replayed": True}
        # Her orders are kept for accounting, with nothing that points back to her.
        for order_id in ("SG-10001", "SG-10002"):
            order = await store.get_order(order_id)
            assert order is not None and order.customer_id.startswith("erased-")
            assert order.shipping_address is None and order.items and order.payments
            assert all(p.method_id is None for p in order.payments)
            assert all(f.tracking_number is None for f in order.fulfilments)
        # Her fork's sandbox is deleted; Carlos's fork keeps its sandbox, without her.
        sandboxes = list((root / "sandboxes").glob("*.db"))
        assert len(sandboxes) == 1
        assert rows(sandboxes[0], "SELECT count(*) FROM customers WHERE id = 'C1001'") == [(0,)]
        assert rows(sandboxes[0], "SELECT count(*) FROM customers WHERE id = 'C1002'") == [(1,)]
        # Carlos is untouched.
        assert carlos == (
            await store.get_customer("C1002"),
            await store.list_orders("C1002"),
            await agent.history("carlos"),
            await agent.history(his_fork.branch_id),
            await agent.state("carlos"),
        )
        assert (await agent.send(his_fork.branch_id, "thanks")).error is None
    # And after a clean shutdown.
    assert files_naming(root) == {}


def store_tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    tables = [r[0] for r in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: sorted(rows(path, f"SELECT * FROM {t}"), key=repr) for t in tables}


async def test_erasing_an_unknown_or_wildcard_id_changes_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "wild"
    async with SupportAgent.open(sandbox_settings(Settings(data_dir=data_dir), root)) as agent:
        await converse(agent, "address", NEW_ADDRESS, EMAIL, "yes")  # before-images
        await converse(agent, "handoff", "Where is my order SG-10005?", "I want to talk to a human")
        await converse(
            agent, "carlos", "¿Dónde está mi pedido SG-10005?", "carlos.garcia@example.com"
        )
        before = store_tables(root / "store.db")
        assert before["write_undo"] and before["interactions"] and before["orders"]
        threads = await agent.threads()
        for customer_id in ("%", "_", "%25", "%%", "C1001%", "C100_", "", "C9999"):
            assert await agent.erase_customer(customer_id) is False
            assert await agent.export_customer(customer_id) is None
        assert store_tables(root / "store.db") == before
        assert await agent.threads() == threads


def test_the_erase_endpoint_answers_404_for_a_wildcard_and_keeps_everything(
    data_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "server"
    with (
        running_server(root, shared=data_dir) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        thread = http.post("/v1/threads", json={}, headers=auth(CLIENT)).json()["thread_id"]
        for text in (NEW_ADDRESS, EMAIL, "yes"):
            r = http.post(
                f"/v1/threads/{thread}/messages", json={"text": text}, headers=auth(CLIENT)
            )
            assert r.status_code == 200, r.text
        before = store_tables(root / "store.db")
        assert before["write_undo"]
        for path in ("%25", "_", "%25%25", "C1001%25"):
            assert http.delete(f"/v1/customers/{path}", headers=auth(ADMIN)).status_code == 404
        assert store_tables(root / "store.db") == before
        assert http.delete("/v1/customers/C1001", headers=auth(ADMIN)).status_code == 204
        assert http.get(f"/v1/threads/{thread}", headers=auth(ADMIN)).status_code == 404
