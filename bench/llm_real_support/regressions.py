"""The misreadings issue 15 reported, replayed against the real model.

The same conversations as the scripted regressions of tests/test_llm_evidence.py, this time
with whatever Qwen2.5-0.5B answers. Each runs twice: with the settings under test (the
cascade by default) and with the model asked about every message no rule settled
(consult_below=1.0, on checkouts that have it), so the model's readings do reach the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Check = Callable[[Any], str | None]  # the last TurnRecord -> what went wrong, or None


def _no_invented_order(record: Any) -> str | None:
    if "order_id" in record.entities:
        return f"order_id {record.entities['order_id']!r} taken from the model"
    if any(call.name == "get_order_details" for call in record.tool_calls):
        return "looked up an order the customer never named"
    return None


def _person_recognised(record: Any) -> str | None:
    if record.intent != "human_agent" or record.escalation.action != "handoff":
        return f"intent {record.intent}, escalation {record.escalation.action}"
    if "order_id" in record.entities:
        return f"order_id {record.entities['order_id']!r} read into a request for a person"
    return None


def _calm_stays_calm(record: Any) -> str | None:
    if record.escalation.action != "none":
        return f"escalation {record.escalation.action} ({record.escalation.reason})"
    if record.awaiting != "email":
        return f"awaiting {record.awaiting}, not the email"
    return None


@dataclass(frozen=True)
class Regression:
    name: str
    messages: tuple[str, ...]
    check: Check


REGRESSIONS = (
    Regression(
        "invented order id",
        ("Where is my order?", "I want to return my shoes"),
        _no_invented_order,
    ),
    Regression(
        "placeholder echoed as an order id",
        ("Where is my order?", "Can I talk to a person? My number is +49 30 1234 5678"),
        _person_recognised,
    ),
    Regression(
        "sentiment -1.0 for an order number", ("Where is my order?", "SG-10002"), _calm_stays_calm
    ),
)
MODES = {"as configured": {}, "every message": {"consult_below": 1.0}}


async def run_regressions(settings_for: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
    """Each regression in each mode: passed, what went wrong, which layer answered."""
    from supportgraph.runtime.agent import SupportAgent

    results = []
    for m, (mode, extra) in enumerate(MODES.items()):
        async with SupportAgent.open(settings_for(extra)) as agent:
            for n, case in enumerate(REGRESSIONS):
                thread = f"regression-{m}-{n}"
                records = [await agent.send(thread, text) for text in case.messages]
                last = records[-1]
                problem = case.check(last)
                results.append(
                    {
                        "mode": mode,
                        "case": case.name,
                        "passed": problem is None,
                        "problem": problem,
                        "model": last.model,
                        "fallback": last.fallback,
                        "latency_ms": last.latency_ms,
                    }
                )
    return results


def markdown(results: list[dict[str, Any]]) -> str:
    rows = [
        "\nThe issue's misreadings with the real model:\n",
        "| misreading | mode | passed | layer that answered | what went wrong |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| {r['case']} | {r['mode']} | {'yes' if r['passed'] else 'NO'} | "
            f"{r['model']} | {r['problem'] or '-'} |"
        )
    return "\n".join(rows)
