"""The command line (real subprocesses), the KB index across processes, store loading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from supportgraph.config import Settings
from supportgraph.knowledge.index import KnowledgeBase

KB_DIR = Path(__file__).parents[1] / "supportgraph" / "brands" / "demo" / "kb"


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPPORTGRAPH_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "supportgraph.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_send_json_prints_a_full_turn_record(data_dir: Path) -> None:
    out = cli(data_dir, "send", "--thread", "cli-1", "--json", "Where is my order?")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    for field in (
        "thread_id",
        "turn",
        "language",
        "reply_language",
        "intent",
        "confidence",
        "entities",
        "sentiment",
        "persona",
        "retrieved",
        "tool_calls",
        "escalation",
        "awaiting",
        "path",
        "reply",
        "latency_ms",
    ):
        assert field in record
    assert record["awaiting"] == "order_id" and record["turn"] == 1
    again = cli(data_dir, "send", "--thread", "cli-1", "SG-10002")
    assert again.returncode == 0 and "email" in again.stdout
    history = cli(data_dir, "history", "cli-1")
    assert [json.loads(line)["turn"] for line in history.stdout.splitlines()] == [1, 2]


def test_send_rejects_an_empty_message_clearly(data_dir: Path) -> None:
    out = cli(data_dir, "send", "--thread", "cli-2", "   ")
    assert out.returncode == 2 and "empty" in out.stderr and "Traceback" not in out.stderr


def test_send_refuses_an_over_long_message_with_the_https_words(data_dir: Path) -> None:
    limit = Settings().max_message_chars
    out = cli(data_dir, "send", "--thread", "cli-long", "x" * (limit + 1))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"error: message longer than {limit} characters" in out.stderr
    assert out.stdout == ""
    assert cli(data_dir, "history", "cli-long").stdout == ""  # nothing was recorded


def test_chat_reports_an_over_long_message_and_the_session_goes_on(data_dir: Path) -> None:
    limit = Settings().max_message_chars
    chat = subprocess.run(
        [sys.executable, "-m", "supportgraph.cli", "chat", "--thread", "chat-long"],
        input="x" * (limit + 1) + "\nWhere is my order?\n/quit\n",
        capture_output=True,
        text=True,
        env={**os.environ, "SUPPORTGRAPH_DATA_DIR": str(data_dir)},
        timeout=120,
    )
    assert chat.returncode == 0 and "Traceback" not in chat.stdout + chat.stderr
    assert f"error: message longer than {limit} characters" in chat.stderr
    assert "What is your order number?" in chat.stdout  # the next message was answered
    turns = [json.loads(line) for line in cli(data_dir, "history", "chat-long").stdout.splitlines()]
    assert [(t["turn"], t["customer_text"]) for t in turns] == [(1, "Where is my order?")]


def test_kb_ingest_is_idempotent_and_reopens_in_a_new_process(tmp_path: Path) -> None:
    first = cli(tmp_path, "kb", "ingest", str(KB_DIR))
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["added"] >= 4 * 30 and report["updated"] == 0
    second = json.loads(cli(tmp_path, "kb", "ingest", str(KB_DIR)).stdout)
    assert second == {"added": 0, "updated": 0, "removed": 0, "unchanged": report["added"]}
    kb = KnowledgeBase(tmp_path / "kb")  # this process, the collection another one wrote
    hits = kb.search("Wie kann ich mein Passwort zurücksetzen?", "de", ["account"])
    assert hits and hits[0].id.startswith("de/account#")


def test_store_load_rejects_bad_records_and_imports_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "customers": [{"id": "C1", "name": "Ana"}],
                "products": [],
                "orders": [{"id": "O1", "customer_id": "C1", "status": "lost"}],
            }
        )
    )
    assert cli(tmp_path, "store", "export").returncode == 0  # creates the demo store first
    out = cli(tmp_path, "store", "load", str(bad))
    assert out.returncode == 2 and "nothing imported" in out.stderr
    assert "orders[0] (id 'O1'): status" in out.stderr
    exported = json.loads(cli(tmp_path, "store", "export").stdout)
    assert len(exported["orders"]) >= 200  # the demo store is untouched


def test_an_outside_store_loads_and_can_be_chatted_against(tmp_path: Path) -> None:
    shop = tmp_path / "shop.json"
    shop.write_text(
        json.dumps(
            {
                "name": "Tiny Shop",
                "currency": "EUR",
                "customers": [{"id": "X1", "name": "Ana Ruiz", "email": "ana@shop.test"}],
                "products": [
                    {
                        "id": "B1",
                        "name": "Canvas Backpack",
                        "type": "accessories",
                        "price": 40,
                        "variants": [
                            {"id": "B1-g", "options": {"colour": "green"}, "available": True}
                        ],
                    }
                ],
                "orders": [
                    {
                        "id": "TS-5001",
                        "customer_id": "X1",
                        "status": "processed",
                        "items": [{"product_id": "B1", "price": 40}],
                    }
                ],
            }
        )
    )
    assert cli(tmp_path, "store", "load", str(shop)).returncode == 0
    cli(tmp_path, "send", "--thread", "s", "where is my order TS-5001?")
    out = cli(tmp_path, "send", "--thread", "s", "--json", "ana@shop.test")
    record = json.loads(out.stdout)
    assert "TS-5001" in record["reply"] and "prepared" in record["reply"]
    exported = json.loads(cli(tmp_path, "store", "export").stdout)
    assert exported["customers"][0]["email"] == "ana@shop.test"
