"""Shared fixtures: a real SupportAgent on a temporary data dir (real SQLite, real Chroma)."""

from __future__ import annotations

import inspect
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# Tests never reach a network service: Chroma telemetry off before anything imports it.
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from supportgraph.config import Settings
from supportgraph.runtime.agent import SupportAgent
from tests.llm_fake import FakeLLM, serve_fake

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = tmp_path_factory.mktemp("sgdata")
    # The test workers of one run share fitted models (nlu/model_cache.py locks each fit), so
    # the two cores fit each model once instead of twice side by side; CI names the cache
    # (SUPPORTGRAPH_TEST_MODELS) so its eval gate reads the same models afterwards.
    shared = os.environ.get("SUPPORTGRAPH_TEST_MODELS")
    if shared is None and os.environ.get("PYTEST_XDIST_WORKER"):
        shared = str(tmp_path_factory.getbasetemp().parent / "models")
    if shared:
        Path(shared).mkdir(parents=True, exist_ok=True)
        (made / "models").symlink_to(shared, target_is_directory=True)
    return made


@pytest.fixture(scope="session")
async def agent(data_dir: Path) -> AsyncIterator[SupportAgent]:
    async with SupportAgent.open(Settings(data_dir=data_dir)) as opened:
        yield opened


@pytest.fixture
def thread() -> str:
    """A fresh conversation id per test."""
    return f"t{next(_ids)}"


async def converse(agent: SupportAgent, thread_id: str, *messages: str):  # type: ignore[no-untyped-def]
    records = []
    for message in messages:
        records.append(await agent.send(thread_id, message))
    return records


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLM]:
    """The scripted OpenAI-compatible server (tests/llm_fake.py), one for the session."""
    with serve_fake() as fake:
        yield fake


@pytest.fixture
def fake(fake_llm_server: FakeLLM) -> FakeLLM:
    """The fake model with no script, no recorded requests and default behaviours."""
    fake_llm_server.reset()
    return fake_llm_server


# Marks of a test that starts another process: a server, a browser, the CLI, a killed child.
PROCESS_FIXTURES = {"server", "browser"}
PROCESS_CALLS = ("running_server(", "subprocess.", "cli(", "crash(")


# Modules of whole conversations through the agent (many turns each, seconds per module):
# tests/unit and tests/contract check the same decisions in isolation for the inner loop.
END_TO_END_MODULES = {
    "test_replay.py",
    "test_store_flows.py",
    "test_llm_agent.py",
    "test_llm_evidence.py",
    "test_llm_economy.py",
    "test_deepeval_suites.py",
    "test_persistence.py",
    "test_erasure.py",
    "test_bad_input.py",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow: a test that starts another process (server, browser, CLI, killed child) or that
    lives in an end-to-end module. `-m "not slow"` is the inner loop (unit, contract and light
    in-process tests, under a minute); the whole suite (CI) runs everything."""
    for item in items:
        function = getattr(item, "function", None)
        source = inspect.getsource(function) if function is not None else ""
        if (
            item.path.name in END_TO_END_MODULES
            or PROCESS_FIXTURES & set(getattr(item, "fixturenames", ()))
            or any(call in source for call in PROCESS_CALLS)
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's headless Chromium through Playwright, one per test module (the page tests)."""
    import shutil

    from tests.test_browser import CHROMIUM, FLAGS

    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (tests/pg.py)."""
    from tests.pg import fresh_database

    with fresh_database() as url:
        yield url
