"""The suite format: YAML files of cases, validated with pydantic; errors name file:line.

cases:
  - id: cancel-pending
    tags: [orders, en]
    setup: {clock: "2026-11-21T10:00:00Z"}
    turns:
      - say: I want to cancel my order SG-10001
        expect: {intent: order_modification, awaiting: email, no_tools: true}
      - say: anna.schmidt@example.com
        expect: {awaiting: confirmation, reply_contains: [SG-10001]}
      - say: "yes"
        expect: {tools_called: [cancel_order]}
    expect_store:
      orders: {SG-10001: {status: cancelled}}
      nothing_else_changed: true
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class SuiteError(ValueError):
    """A suite file that cannot be used; the message names file:line and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolExpectation(_Strict):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)  # a subset of the call's arguments


class EscalationExpectation(_Strict):
    action: Literal["none", "offer", "handoff"] | None = None
    priority: Literal["low", "medium", "high", "critical"] | None = None
    reason: str | None = (
        None  # a prefix of the reason ("legal_or_fraud" matches "legal_or_fraud:lawyer")
    )


class Expect(_Strict):
    language: str | None = None
    reply_language: str | None = None
    intent: str | None = None
    entities: dict[str, Any] | None = None  # subset
    tools_called: list[ToolExpectation] | None = None  # each must appear (in order)
    no_tools: bool = False
    no_writes: bool = False
    escalation: EscalationExpectation | None = None
    awaiting: str | None = None
    awaiting_none: bool = False
    reply_contains: list[str] = Field(default_factory=list)
    reply_not_contains: list[str] = Field(default_factory=list)
    reply_matches: str | None = None  # a regular expression
    path_contains: list[str] = Field(default_factory=list)
    persona: str | None = None
    author: Literal["bot", "human_agent", "system"] | None = None

    @field_validator("tools_called", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value


class Turn(_Strict):
    say: str | None = None  # the customer's message
    agent_reply: str | None = None  # or a human agent's reply (resumes a handoff)
    release: bool = False  # or the agent hands the thread back
    wait_minutes: float = 0.0  # time passing before this turn (time-based rules)
    expect: Expect = Field(default_factory=Expect)


class StoreExpect(_Strict):
    orders: dict[str, dict[str, Any]] = Field(default_factory=dict)  # id -> field subset
    customers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    nothing_else_changed: bool = False  # no other order or customer differs afterwards
    no_writes: bool = False  # the write log stays empty


class Setup(_Strict):
    clock: dt.datetime | None = None  # the conversation's start time
    store: str | None = None  # a store JSON file, relative to the suite file
    store_overrides: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    locale: str | None = None
    escalation: dict[str, Any] = Field(default_factory=dict)  # EscalationRules overrides


class Case(_Strict):
    id: str
    tags: list[str] = Field(default_factory=list)
    description: str | None = None
    setup: Setup = Field(default_factory=Setup)
    turns: list[Turn]
    expect_store: StoreExpect | None = None
    # where it came from, for messages
    file: str = ""
    line: int = 0


def _case_lines(text: str) -> list[int]:
    """1-based line of each item of the top-level `cases` list."""
    root = yaml.compose(text)
    if root is None or not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "cases" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def load_file(path: Path) -> list[Case]:
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        lines = _case_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SuiteError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise SuiteError(f"{path}:1: a suite file needs a top-level `cases:` list")
    cases = []
    for index, raw in enumerate(data["cases"]):
        line = lines[index] if index < len(lines) else 1
        try:
            case = Case.model_validate({**(raw or {}), "file": str(path), "line": line})
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            cid = raw.get("id", f"#{index + 1}") if isinstance(raw, dict) else f"#{index + 1}"
            raise SuiteError(f"{path}:{line}: case {cid}: {field}: {first['msg']}") from exc
        cases.append(case)
    return cases


def load_cases(paths: list[Path], tags: list[str] | None = None) -> list[Case]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(list(path.rglob("*.yaml")) + list(path.rglob("*.yml"))))
        elif path.exists():
            files.append(path)
        else:
            raise SuiteError(f"{path}: no such file or directory")
    cases = [case for file in files for case in load_file(file)]
    seen: dict[str, Case] = {}
    for case in cases:
        if case.id in seen:
            raise SuiteError(
                f"{case.file}:{case.line}: duplicate case id {case.id!r} "
                f"(also {seen[case.id].file}:{seen[case.id].line})"
            )
        seen[case.id] = case
    if tags:
        cases = [c for c in cases if set(tags) & set(c.tags)]
    return cases
