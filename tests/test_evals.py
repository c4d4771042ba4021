"""The eval runner itself: format errors with file:line, precise failures, reports, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from supportgraph.config import Settings
from supportgraph.evals.report import write_junit, write_reports
from supportgraph.evals.runner import run_cases
from supportgraph.evals.suite import SuiteError, load_cases

REFUSAL_CASE = """\
cases:
  - id: refuse-then-nothing-written
    tags: [policy]
    turns:
      - say: I want to cancel my order SG-10001
        expect: {awaiting: email}
      - say: anna.schmidt@example.com
        expect: {awaiting: confirmation}
      - say: "no"
        expect: {no_writes: true, reply_contains: ["haven't changed anything"]}
    expect_store: {no_writes: true, orders: {SG-10001: {status: pending}}}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_bad_case_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        REFUSAL_CASE + "  - id: second\n    turns:\n      - say: hi\n"
        "        expect: {intnet: greeting}\n",
    )
    with pytest.raises(SuiteError) as err:
        load_cases([path])
    assert f"{path}:12: case second: turns.0.expect.intnet: Extra inputs are not permitted" in str(
        err.value
    )
    broken = write(tmp_path, "broken.yaml", "cases:\n  - id: x\n    turns: [\n")
    with pytest.raises(SuiteError, match=r"broken.yaml:\d+: not valid YAML"):
        load_cases([broken])


@pytest.fixture
def settings(tmp_path: Path, data_dir: Path) -> Settings:
    for name in ("models", "kb"):
        (data_dir / name).mkdir(exist_ok=True)
    return Settings(data_dir=data_dir)


async def test_the_runner_passes_correct_behaviour(tmp_path: Path, settings: Settings) -> None:
    cases = load_cases([write(tmp_path, "ok.yaml", REFUSAL_CASE)])
    [result] = await run_cases(cases, settings)
    assert result.passed, [f.describe() for f in result.failures]


async def test_a_deliberately_broken_policy_fails_with_a_precise_message(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fixture breaks the graph: every answer counts as "yes".
    import supportgraph.nodes.understand as understand

    monkeypatch.setattr(understand, "confirmation", lambda text: True)
    cases = load_cases([write(tmp_path, "ok.yaml", REFUSAL_CASE)])
    [result] = await run_cases(cases, settings)
    messages = [f.describe() for f in result.failures]
    assert not result.passed
    assert messages[0].startswith(
        "turn 3: no_writes: expected [], got ['cancel_order'] (path detect_language"
    )
    assert "store: orders.SG-10001.status: expected 'pending', got 'cancelled'" in messages
    report = write_reports([result], tmp_path / "report")
    assert report["policy_violations"] >= 1
    data = json.loads((tmp_path / "report" / "eval-report.json").read_text())
    assert data["cases"][0]["failures"][0]["field"] == "no_writes"
    assert "FAIL" in (tmp_path / "report" / "eval-report.md").read_text()
    write_junit([result], tmp_path / "junit.xml")
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("failures") == "1" and suite.find("testcase/failure") is not None


def test_the_cli_exits_1_on_failure_and_0_on_success(tmp_path: Path, data_dir: Path) -> None:
    env = {**os.environ, "SUPPORTGRAPH_DATA_DIR": str(data_dir)}
    good = write(tmp_path, "good.yaml", REFUSAL_CASE)
    bad = write(
        tmp_path,
        "bad.yaml",
        REFUSAL_CASE.replace("refuse-then-nothing-written", "wrong").replace(
            "{awaiting: email}", "{awaiting: order_id}"
        ),
    )
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "supportgraph.cli",
            "eval",
            str(good),
            "--junit",
            str(tmp_path / "j.xml"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 passed, 0 failed" in ok.stdout and (tmp_path / "j.xml").exists()
    failed = subprocess.run(
        [sys.executable, "-m", "supportgraph.cli", "eval", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert failed.returncode == 1
    assert "turn 1: awaiting: expected 'order_id', got 'email'" in failed.stdout
