"""Does the bot work on a shop that is not the demo? The flow suites on each store, side by side.

    python bench/store_generalisation.py [--concurrency 4] [--data-dir DIR] [--json FILE]

Two runs through the public evals API (supportgraph.evals: load_cases, run_cases), as
`supportgraph eval` does:

- demo: every suite under tests/evals except tests/evals/second_store, on the demo store;
- homegoods: tests/evals/second_store, on tests/data/stores/homegoods.json (Hearth & Desk, USD,
  "#1001"-style order names, numeric ids, finish/material/length/wattage options, no delivery
  dates), which those cases name in their setup.

The table: cases and cases passed, pass rate, steps (customer turns) and steps passed (a turn
with no failed expectation, in a case that ran). A failing store-level expectation
(expect_store) fails the case but no step. Then the failing cases of the second store, one line
each, with their first failing expectation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from supportgraph import Settings  # noqa: E402
from supportgraph.evals.report import case_row  # noqa: E402
from supportgraph.evals.runner import CaseResult, run_cases  # noqa: E402
from supportgraph.evals.suite import load_cases  # noqa: E402

EVALS = HERE.parent / "tests" / "evals"
SECOND_STORE = EVALS / "second_store"


def demo_suites() -> list[Path]:
    return sorted(p for p in EVALS.rglob("*.yaml") if SECOND_STORE not in p.parents)


def figures(store: str, results: list[CaseResult]) -> dict[str, Any]:
    steps = steps_passed = 0
    for result in results:
        failed_turns = {f.turn for f in result.failures}
        for n in range(1, len(result.case.turns) + 1):
            steps += 1
            steps_passed += result.error is None and n not in failed_turns
    passed = sum(r.passed for r in results)
    return {
        "store": store,
        "cases": len(results),
        "passed": passed,
        "pass_rate": round(passed / len(results), 4) if results else None,
        "steps": steps,
        "steps_passed": steps_passed,
        "step_pass_rate": round(steps_passed / steps, 4) if steps else None,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    print("| store | cases | passed | pass rate | steps (turns) | steps passed |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        rate = f"{r['pass_rate']:.1%}" if r["pass_rate"] is not None else "-"
        step_rate = f" ({r['step_pass_rate']:.1%})" if r["step_pass_rate"] is not None else ""
        print(
            f"| {r['store']} | {r['cases']} | {r['passed']} | {rate} | {r['steps']} | "
            f"{r['steps_passed']}{step_rate} |"
        )


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=4, help="cases run at once")
    parser.add_argument("--data-dir", type=Path, help="default: the user data dir, as the CLI")
    parser.add_argument("--json", type=Path, help="also write the figures and failures here")
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir) if args.data_dir else Settings()

    runs = {
        "demo": load_cases(demo_suites()),
        "homegoods": load_cases([SECOND_STORE]),
    }
    results = {
        name: await run_cases(cases, settings, args.concurrency) for name, cases in runs.items()
    }
    rows = [figures(name, found) for name, found in results.items()]
    print_table(rows)
    failing = [case_row(r) for r in results["homegoods"] if not r.passed]
    if failing:
        print("\nfailing on the second store:")
        for row in failing:
            print(f"- {row['id']}: {row['first_failure'][:160]}")
    if args.json:
        args.json.write_text(
            json.dumps({"stores": rows, "homegoods_failing": failing}, indent=1, default=str)
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
