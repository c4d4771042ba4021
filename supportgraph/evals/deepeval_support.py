"""deepeval integration: every expectation kind is a deepeval metric, tool expectations use
deepeval's ToolCorrectnessMetric, and suites run under `deepeval test run` or plain pytest:

    # tests/evals/test_deepeval_suites.py
    import pytest
    from supportgraph.evals.deepeval_support import assert_case, eval_cases

    @pytest.mark.parametrize("case", eval_cases("tests/evals"), ids=lambda c: c.id)
    def test_case(case):
        assert_case(case)

Offline and deterministic: telemetry is opted out before deepeval is imported, and the tool
metric gets a judge that refuses to be called (it never is: tool correctness is computed).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

# Before deepeval is imported anywhere: no telemetry, no login prompts, no network.
os.environ.setdefault("DEEPEVAL_TELEMETRY_OPT_OUT", "YES")
os.environ.setdefault("DEEPEVAL_DISABLE_DOTENV", "1")
os.environ.setdefault("ERROR_REPORTING", "NO")

from deepeval.metrics import BaseMetric, ToolCorrectnessMetric
from deepeval.models import DeepEvalBaseLLM
from deepeval.test_case import LLMTestCase, ToolCall

from supportgraph.domain.records import TurnRecord
from supportgraph.evals.checks import check_turn
from supportgraph.evals.runner import CaseResult, run_cases
from supportgraph.evals.suite import Case, Expect, load_cases

# Expectation fields, grouped into the metric kinds they become.
KINDS: dict[str, tuple[str, ...]] = {
    "language": ("language", "reply_language"),
    "intent": ("intent",),
    "entities": ("entities",),
    "no_tools": ("no_tools",),
    "no_writes": ("no_writes",),
    "escalation": ("escalation",),
    "awaiting": ("awaiting", "awaiting_none"),
    "reply": ("reply_contains", "reply_not_contains", "reply_matches"),
    "path": ("path_contains",),
    "persona": ("persona",),
    "author": ("author",),
}


class NoJudge(DeepEvalBaseLLM):
    """A judge for metrics that must not need one: calling it is an error."""

    def __init__(self) -> None:
        super().__init__(model="no-judge")

    def load_model(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def generate(self, *args: Any, **kwargs: Any) -> str:
        raise RuntimeError("this metric is deterministic; no judge model is configured")

    async def a_generate(self, *args: Any, **kwargs: Any) -> str:
        raise RuntimeError("this metric is deterministic; no judge model is configured")

    def get_model_name(self) -> str:
        return "no-judge"


class ExpectationMetric(BaseMetric):
    """One kind of TurnRecord expectation (intent, escalation, reply, ...) as a deepeval metric."""

    def __init__(self, kind: str, expect: Expect, turn: int) -> None:
        self.kind = kind
        self.expect = expect
        self.turn = turn
        self.threshold = 1.0
        self.async_mode = False
        self.include_reason = True
        self.strict_mode = True
        self.evaluation_model = None

    @property
    def __name__(self) -> str:  # type: ignore[override]
        return f"supportgraph:{self.kind}"

    def measure(self, test_case: LLMTestCase, *args: Any, **kwargs: Any) -> float:
        meta = test_case.metadata or {}
        record = TurnRecord.model_validate(meta["record"])
        failures = check_turn(self.turn, self.expect, record, meta.get("writes", []))
        self.score = 0.0 if failures else 1.0
        self.success = not failures
        self.reason = "; ".join(f.describe() for f in failures) or "as expected"
        return self.score

    async def a_measure(self, test_case: LLMTestCase, *args: Any, **kwargs: Any) -> float:
        return self.measure(test_case)

    def is_successful(self) -> bool:
        return bool(self.success)


def turn_metrics(expect: Expect, turn: int) -> list[BaseMetric]:
    metrics: list[BaseMetric] = []
    set_fields = expect.model_dump(exclude_defaults=True)
    for kind, fields in KINDS.items():
        chosen = {f: set_fields[f] for f in fields if f in set_fields}
        if chosen:
            metrics.append(ExpectationMetric(kind, Expect.model_validate(chosen), turn))
    if expect.tools_called:
        metrics.append(ToolCorrectnessMetric(model=NoJudge(), async_mode=False, threshold=1.0))
    return metrics


def test_cases(result: CaseResult) -> list[tuple[LLMTestCase, list[BaseMetric]]]:
    """One deepeval test case per turn, with the metrics its expectations define."""
    out = []
    for n, (turn, record) in enumerate(zip(result.case.turns, result.records, strict=False), 1):
        called = [ToolCall(name=c.name, input_parameters=c.args) for c in record.tool_calls if c.ok]
        expected = [
            ToolCall(name=t.name, input_parameters=t.args or None)
            for t in turn.expect.tools_called or []
        ]
        case = LLMTestCase(
            input=turn.say or turn.agent_reply or "(release)",
            actual_output=record.reply,
            retrieval_context=list(record.retrieved) or None,
            tools_called=called,
            expected_tools=expected or None,
            metadata={
                "record": record.model_dump(mode="json"),
                "writes": result.writes[n - 1] if n - 1 < len(result.writes) else [],
            },
            name=f"{result.case.id}#{n}",
            tags=result.case.tags,
        )
        out.append((case, turn_metrics(turn.expect, n)))
    return out


def eval_cases(*paths: str | Path, tags: list[str] | None = None) -> list[Case]:
    return load_cases([Path(p) for p in paths], tags)


def run_case_sync(case: Case) -> CaseResult:
    return asyncio.run(run_cases([case]))[0]


def assert_case(case: Case) -> None:
    """Run one case and assert every turn's metrics with deepeval (store expectations too)."""
    from deepeval.evaluate.evaluate import assert_test

    result = run_case_sync(case)
    if result.error:
        raise AssertionError(f"{case.file}:{case.line}: {case.id}: {result.error}")
    for test_case, metrics in test_cases(result):
        if metrics:
            assert_test(test_case, metrics, run_async=False)
    store_failures = [f for f in result.failures if f.turn == 0]
    if store_failures:
        raise AssertionError("; ".join(f.describe() for f in store_failures))
