"""The graph under LangGraph's own server: `langgraph dev` (langgraph-cli[inmem]) started for real
from a langgraph.json like the project's, driven with the official langgraph-sdk.

LangGraph's server passes its own context (`{}`), refuses blocking calls on its event loop,
sends only the message (no turn, no thread id) and its chat clients send `{"messages": [...]}`:
a cancellation confirmed on two threads must cancel both orders, each write keyed by its own
thread and turn.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from tests.server_helpers import free_port

ROOT = Path(__file__).parents[1]
SERVED = re.compile(r"API: \S*http://127\.0\.0\.1:(\d+)")  # the log may be coloured
# The demo store is dated 2026-11-20: its pending orders can be cancelled on any later day.
CANCELLATIONS = {
    "SG-10001": "anna.schmidt@example.com",
    "SG-10184": "diego.ortega@example.com",
}


def langgraph_dev_command(config: Path, port: int) -> list[str]:
    cli = Path(sys.executable).with_name("langgraph")
    return [
        str(cli),
        "dev",
        "--no-browser",
        "--no-reload",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--config",
        str(config),
    ]


@pytest.fixture(scope="module")
def langgraph_dev(
    tmp_path_factory: pytest.TempPathFactory, data_dir: Path
) -> Iterator[tuple[str, Path]]:
    """`langgraph dev` serving the project's graph from a fresh data dir: its URL, the dir."""
    home = tmp_path_factory.mktemp("langgraph-dev")
    project = json.loads((ROOT / "langgraph.json").read_text())
    module, _, attr = project["graphs"]["supportgraph"].partition(":")
    config = home / "langgraph.json"
    config.write_text(
        json.dumps(
            {
                "dependencies": [str(ROOT)],
                "graphs": {"supportgraph": f"{(ROOT / module).resolve()}:{attr}"},
                "env": {},
            }
        )
    )
    data = home / "data"
    data.mkdir()
    (data_dir / "models").mkdir(exist_ok=True)
    (data / "models").symlink_to((data_dir / "models").resolve(), target_is_directory=True)
    env = {
        **os.environ,
        "SUPPORTGRAPH_DATA_DIR": str(data),
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
    }
    log = home / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            langgraph_dev_command(config, free_port()),
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield wait_until_served(process, log), data
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_served(process: subprocess.Popen[bytes], log: Path) -> str:
    """The URL the server answers on (it may move to another port: its log says which)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"langgraph dev exited with {process.returncode}:\n{log.read_text()}")
        found = SERVED.search(log.read_text())
        if found:
            url = f"http://127.0.0.1:{found.group(1)}"
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    pytest.fail(f"langgraph dev did not answer within 120 s:\n{log.read_text()}")


def last_reply(values: dict[str, Any]) -> dict[str, Any]:
    return values["messages"][-1]


async def test_a_cancellation_confirmed_on_two_threads_cancels_both_orders(
    langgraph_dev: tuple[str, Path],
) -> None:
    url, data = langgraph_dev
    client = get_client(url=url)
    assistants = await client.assistants.search(graph_id="supportgraph")
    assert assistants, "langgraph dev serves the supportgraph graph"
    threads = {order: (await client.threads.create())["thread_id"] for order in CANCELLATIONS}
    # Interleaved, as two customers would: each step on one thread, then on the other. One
    # thread speaks the README's {"text": ...}; the other the chat input of LangGraph clients.
    steps = [
        lambda order: f"I want to cancel my order {order}",
        lambda order: CANCELLATIONS[order],
        lambda order: "yes",
    ]
    finals: dict[str, dict[str, Any]] = {}
    for step in steps:
        for index, (order, thread) in enumerate(threads.items()):
            text = step(order)
            run_input: dict[str, Any] = (
                {"text": text}
                if index == 0
                else {"messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}
            )
            finals[order] = await client.runs.wait(thread, "supportgraph", input=run_input)
    for order, thread in threads.items():
        values = finals[order]
        cancel = next(c for c in values["tool_calls"] if c["name"] == "cancel_order")
        assert cancel["ok"], cancel
        assert (
            cancel["args"]["key"] == f"{thread}:2:cancel_order"
        )  # its thread, the turn it was proposed
        reply = last_reply(values)
        assert (
            reply["type"] == "ai" and order in reply["content"] and "cancelled" in reply["content"]
        )
        assert values["turn"] == 3
        history = [m for m in values["messages"] if m["type"] == "human"]
        assert [m["content"] for m in history][-1] == "yes"  # the chat input, once, in order
    with sqlite3.connect(data / "store.db") as db:
        status = dict(
            db.execute("SELECT id, status FROM orders WHERE id IN (?, ?)", tuple(CANCELLATIONS))
        )
        keys = [k for (k,) in db.execute("SELECT key FROM writes WHERE action = 'cancel_order'")]
    assert status == dict.fromkeys(CANCELLATIONS, "cancelled")
    assert sorted(keys) == sorted(f"{t}:2:cancel_order" for t in threads.values())
