"""`supportgraph eval`: run conversation suites and report."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from supportgraph.cli.common import DataDir, fail, settings_for


def eval_suites(
    paths: Annotated[list[Path], typer.Argument(help="Suite files or folders of *.yaml.")],
    tags: Annotated[
        list[str] | None, typer.Option("--tags", help="Only cases with one of these tags.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write eval-report.json and .md here.")
    ] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here.")] = None,
    concurrency: Annotated[int, typer.Option(help="Cases run at once.")] = 4,
    data_dir: DataDir = None,
) -> None:
    """Run eval suites against fresh sandbox stores; exit 1 if any expectation fails."""
    from rich.console import Console
    from rich.table import Table

    from supportgraph.evals.report import aggregate, case_row, write_junit, write_reports
    from supportgraph.evals.runner import run_cases
    from supportgraph.evals.suite import SuiteError, load_cases

    try:
        cases = load_cases(paths, tags)
    except SuiteError as exc:
        fail(str(exc))
        return
    if not cases:
        fail("no cases found")
    results = asyncio.run(run_cases(cases, settings_for(data_dir), concurrency))
    console = Console(width=160)
    table = Table("case", "turns", "result", "first failing expectation")
    for result in results:
        row = case_row(result)
        table.add_row(
            row["id"],
            str(row["turns"]),
            "[green]pass[/green]" if row["passed"] else "[red]FAIL[/red]",
            row["first_failure"][:200],
        )
    console.print(table)
    summary = write_reports(results, report) if report else aggregate(results)
    if junit:
        write_junit(results, junit)
    console.print(" ".join(f"{k}={v}" for k, v in summary.items()))
    console.print(f"{summary['passed']} passed, {summary['failed']} failed")
    if summary["failed"]:
        raise typer.Exit(1)
