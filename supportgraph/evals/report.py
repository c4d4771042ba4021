"""Aggregate figures and the reports: terminal table, JSON, Markdown, JUnit XML."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from supportgraph.evals.runner import CaseResult

POLICY_FIELDS = {"no_writes", "no_tools", "orders unchanged", "customers unchanged"}


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def aggregate(results: list[CaseResult]) -> dict[str, Any]:
    intent_total = intent_ok = 0
    tp = predicted = expected = 0
    esc_tp = esc_pred = esc_exp = 0
    latencies: list[float] = []
    turns = fallbacks = 0
    for result in results:
        for turn, record in zip(result.case.turns, result.records, strict=False):
            turns += 1
            latencies.append(record.latency_ms)
            if record.intent == "out_of_scope" or record.uncertainty > 0.7 or record.error:
                fallbacks += 1
            exp = turn.expect
            if exp.intent is not None:
                intent_total += 1
                intent_ok += record.intent == exp.intent
            if exp.tools_called is not None or exp.no_tools:
                called = {c.name for c in record.tool_calls if c.ok}
                wanted = {t.name for t in exp.tools_called or []}
                if exp.tools_called is not None and not exp.no_tools:
                    # Only the tools the case names are scored; others are not false positives.
                    called &= wanted | {c for c in called if c in wanted}
                tp += len(called & wanted)
                predicted += len(called)
                expected += len(wanted)
            if exp.escalation is not None and exp.escalation.action is not None:
                got = record.escalation.action != "none"
                want = exp.escalation.action != "none"
                esc_tp += got and want and record.escalation.action == exp.escalation.action
                esc_pred += got
                esc_exp += want
    violations = sum(1 for r in results for f in r.failures if f.field in POLICY_FIELDS)
    contained = sum(
        1 for r in results if not any(rec.escalation.action == "handoff" for rec in r.records)
    )
    return {
        "cases": len(results),
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
        "turns": turns,
        "intent_accuracy": _ratio(intent_ok, intent_total),
        "tool_precision": _ratio(tp, predicted),
        "tool_recall": _ratio(tp, expected),
        "escalation_precision": _ratio(esc_tp, esc_pred),
        "escalation_recall": _ratio(esc_tp, esc_exp),
        "policy_violations": violations,
        "containment_rate": _ratio(contained, len(results)),
        "fallback_rate": _ratio(fallbacks, turns),
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p95_ms": round(sorted(latencies)[round(0.95 * (len(latencies) - 1))], 1)
        if latencies
        else None,
    }


def case_row(result: CaseResult) -> dict[str, Any]:
    first = result.failures[0].describe() if result.failures else (result.error or "")
    return {
        "id": result.case.id,
        "file": f"{result.case.file}:{result.case.line}",
        "tags": result.case.tags,
        "turns": len(result.case.turns),
        "passed": result.passed,
        "first_failure": first,
        "failures": [f.as_dict() for f in result.failures],
        "error": result.error,
        "seconds": round(result.seconds, 3),
    }


def write_reports(results: list[CaseResult], directory: Path) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    summary = aggregate(results)
    rows = [case_row(r) for r in results]
    (directory / "eval-report.json").write_text(
        json.dumps({"summary": summary, "cases": rows}, indent=1, ensure_ascii=False, default=str)
    )
    lines = ["# supportgraph eval report", "", "| measure | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary.items()]
    lines += ["", "| case | turns | result | first failing expectation |", "|---|---|---|---|"]
    for row in rows:
        status = "pass" if row["passed"] else "FAIL"
        lines.append(
            f"| {row['id']} | {row['turns']} | {status} | {row['first_failure'].replace('|', '/')} |"
        )
    (directory / "eval-report.md").write_text("\n".join(lines) + "\n")
    return summary


def write_junit(results: list[CaseResult], path: Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="supportgraph-evals",
        tests=str(len(results)),
        failures=str(sum(bool(r.failures) for r in results)),
        errors=str(sum(r.error is not None for r in results)),
    )
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=Path(result.case.file).stem,
            name=result.case.id,
            time=f"{result.seconds:.3f}",
        )
        if result.error:
            ET.SubElement(case, "error", message=result.error)
        for failure in result.failures:
            node = ET.SubElement(case, "failure", message=failure.describe())
            node.text = json.dumps(failure.as_dict(), ensure_ascii=False, default=str)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
