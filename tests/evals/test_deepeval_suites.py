"""The project's eval suites as deepeval test cases: `deepeval test run tests/evals/test_deepeval_suites.py`
(or plain pytest). `supportgraph eval tests/evals/` runs the same suites faster, concurrently."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportgraph.evals.deepeval_support import assert_case, eval_cases

SUITES = Path(__file__).parent


@pytest.mark.parametrize("case", eval_cases(SUITES, tags=["smoke"]), ids=lambda c: c.id)
def test_case(case) -> None:  # type: ignore[no-untyped-def]
    assert_case(case)
