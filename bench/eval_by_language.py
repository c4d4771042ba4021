"""Eval-suite pass rate per language (issue 16): every case of tests/evals/ by its language tag.

    python bench/eval_by_language.py [--suites tests/evals/]

Runs the suites once (`supportgraph eval`, offline, demo store) and prints, per language
tag (en, es, ... nl), the cases and turns that passed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "zh", "ja", "ar", "nl"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suites", default="tests/evals/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "supportgraph.cli", "eval", args.suites, "--report", tmp],
            capture_output=True,
            check=False,
        )
        report = json.loads((Path(tmp) / "eval-report.json").read_text(encoding="utf-8"))
    cases: dict[str, list[bool]] = defaultdict(list)
    turns: dict[str, int] = defaultdict(int)
    for case in report["cases"]:
        for lang in set(case["tags"]) & set(LANGUAGES):
            cases[lang].append(bool(case["passed"]))
            turns[lang] += int(case["turns"])
    print("| language | cases | passed | turns |\n|---|---|---|---|")
    for lang in LANGUAGES:
        if cases[lang]:
            passed = sum(cases[lang])
            print(
                f"| {lang} | {len(cases[lang])} | {passed} ({passed / len(cases[lang]):.0%}) "
                f"| {turns[lang]} |"
            )


if __name__ == "__main__":
    main()
