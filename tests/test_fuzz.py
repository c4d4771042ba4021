"""Schemathesis fuzzes every operation of a real server's /openapi.json: no input is a 5xx,
and every status answered is one the document lists for that operation.

Each generated case is sent with a key of a random scope (client, agent or admin), and its
path parameters are often replaced by ids that exist (a client's thread, a thread waiting
for a human, a LangGraph thread, a demo customer), so the fuzz reaches the routes' logic
rather than stopping at 401 or 404. Marked slow: `pytest -m "not slow"` skips it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.server_helpers import ADMIN, AGENT, CLIENT, auth, running_server

MAX_EXAMPLES = 50  # per operation, positive and negative cases mixed
# Explicit, so that a schemathesis.toml in the working directory cannot change the run.
CONFIG = schemathesis.Config.from_dict({})
# Admin keys pass every scope check; client and agent keys take the scoped paths.
KEYS = [CLIENT, AGENT, ADMIN, ADMIN]
SEEN: Counter[str] = Counter()  # "cases", "5xx", and one key per status


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("fuzz"), shared=data_dir) as url:
        yield url


def existing_ids(http: httpx.Client) -> dict[str, list[str]]:
    """Ids that exist on the server, by path parameter name: two client threads on /v1 (the
    second waiting for a human) and one LangGraph thread. Made afresh for each operation, as
    a fuzzed DELETE may remove them."""
    threads = []
    for _ in range(2):
        r = http.post("/v1/threads", json={"locale": "en"}, headers=auth(CLIENT))
        assert r.status_code == 201, r.text
        threads.append(r.json()["thread_id"])
    r = http.post(
        f"/v1/threads/{threads[1]}/messages",
        json={"text": "I want to talk to a human"},
        headers=auth(CLIENT),
    )
    assert r.status_code == 200, r.text
    threads.append(http.post("/threads", json={}, headers=auth(CLIENT)).json()["thread_id"])
    return {
        "thread_id": threads,
        "customer_id": ["C1001", "C1002"],
        "assistant_id": ["supportgraph"],
    }


@pytest.fixture(scope="module")
def api_schema(fuzz_server: str) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_server}/openapi.json", config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    if SEEN:
        print(f"\nfuzz: {json.dumps(dict(sorted(SEEN.items())))}")


@pytest.mark.slow
def test_no_input_is_a_server_error(api_schema: Any, fuzz_server: str) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 27  # every route of the API, /v1 and LangGraph
    failures: list[str] = []
    reached: Counter[str] = Counter()  # answers past the key and id checks, per operation
    with requests.Session() as session, httpx.Client(base_url=fuzz_server, timeout=30) as http:
        for operation in operations:
            try:
                fuzz_operation(operation, session, fuzz_server, existing_ids(http), reached)
            except Exception as exc:
                failures.append(f"{operation.label}: {exc}")
    SEEN["operations"] = len(operations)
    assert not failures, "\n\n".join(failures)
    assert not [op.label for op in operations if not reached[op.label]]


def fuzz_operation(
    operation: Any,
    session: requests.Session,
    base_url: str,
    existing: dict[str, list[str]],
    reached: Counter[str],
) -> None:
    """Positive and negative cases of one operation, each with a key of a random scope."""
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, key=st.sampled_from(KEYS), pick=st.integers(0, 3))
    def fuzz(case: Any, key: str, pick: int) -> None:
        for name, values in existing.items():
            if pick and case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = values[(pick - 1) % len(values)]
        response = case.call(base_url=base_url, session=session, headers=auth(key), timeout=30)
        SEEN["cases"] += 1
        SEEN[str(response.status_code)] += 1
        if response.status_code >= 500:
            SEEN["5xx"] += 1
        if response.status_code not in (401, 403, 404):
            reached[operation.label] += 1
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance])

    fuzz()
