"""Eval cases run one at a time, offline and in LLM mode, with every customer message
marked as a turn so that each model request the proxy sees is attributed to it.

Each turn keeps what its TurnRecord says (language, reply, which layer answered) and, in LLM
mode, what the phrasing step did: LLMService.phrase is wrapped for the run, so its outcome
(the layer whose reply the customer saw: "primary"/"backup" = the model's draft was used,
"offline" = the template, with the reason the draft was refused) is recorded per turn, and
its model requests are tagged part=phrasing at the proxy (the drafts themselves, refused or
not, are in the proxy's exchanges)."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llm_real_support.proxy import Recorder

# "core": one or more cases per kind of conversation the LLM mode must not break.
CORE = [
    "track-shipped-slot-filling",  # order tracking: order id, then identity, then tools
    "track-pending-order",
    "tracking-spanish",  # Spanish, tracking with identity
    "cancel-pending-order",  # cancel with confirmation, store write
    "cancel-pending-german",  # German, cancel with confirmation
    "confirmation-no-writes-nothing",  # a declined confirmation writes nothing
    "return-with-refund-amount",  # a return
    "human-request-english",  # asking for a person
    "negative-sentiment-handoff",  # escalation on an angry message
    "smoke-legal-threat-es",  # Spanish legal threat: critical handoff
    "shipping-cost-en",  # KB question
    "return-policy-question",  # KB question
    "shipping-duration-de",  # German KB question
    "delivery-estimate-france",
    "stock-in-stock",  # product stock
    "stock-out-of-stock-with-alternatives",
]
WORDING_CHECKS = {"reply_contains", "reply_not_contains", "reply_matches"}
# The served reply languages, in the order the per-language table lists them.
SERVED = ("en", "es", "fr", "de", "it", "pt", "zh", "ja", "ar", "nl")
LANGUAGES_SUITE = "languages_core.yaml"  # the core flows in every served language
CASE_SETS = ("smoke", "core", "languages", "all")


def case_language(case: Any) -> str | None:
    """The language a case is written in: its language tag (languages_core.yaml tags every
    case with one, e.g. [languages, cancel, it]), else its id's last part ("handoff-it")."""
    for tag in case.tags:
        if tag in SERVED:
            return str(tag)
    suffix = case.id.rsplit("-", 1)[-1]
    return suffix if suffix in SERVED else None


def select_cases(evals_dir: Path, which: str, language: str | None = None) -> list[Any]:
    """The case set `which`; with `language`, only that language's cases of it."""
    cases = _case_set(evals_dir, which)
    if language is None:
        return cases
    mine = [c for c in cases if case_language(c) == language]
    if not mine:
        raise SystemExit(f"no {which} case is in language {language!r}")
    return mine


def _case_set(evals_dir: Path, which: str) -> list[Any]:
    from supportgraph.evals.suite import load_cases

    if which == "smoke":
        return list(load_cases([evals_dir / "smoke.yaml"]))
    if which == "languages":
        return list(load_cases([evals_dir / LANGUAGES_SUITE]))
    cases = list(load_cases([evals_dir]))
    if which == "all":
        return cases
    by_id = {c.id: c for c in cases}
    missing = [cid for cid in CORE if cid not in by_id]
    if missing:
        raise SystemExit(f"core cases not found in {evals_dir}: {missing}")
    return [by_id[cid] for cid in CORE]


@dataclass
class TurnMark:
    phase: str
    case: str
    n: int  # the case's n-th customer message
    text: str
    started: float  # perf_counter seconds
    ended: float = 0.0
    latency_ms: float = 0.0  # TurnRecord.latency_ms
    model: str | None = None
    fallback: str | None = None
    record_tokens_in: int = 0
    record_tokens_out: int = 0
    bare_ms: float | None = None  # one plain request of this message, timed afterwards
    language: str | None = None  # TurnRecord.language: the customer's language this turn
    reply_language: str | None = None  # TurnRecord.reply_language: the one asked for
    reply: str = ""
    author: str | None = None
    intent: str | None = None  # TurnRecord.intent: the turn's reading (the model's, in LLM mode)
    # LLM mode, when the turn asked the model to phrase its reply: the layer that answered
    # ("primary"/"backup": the model's draft was sent; "offline": the template was), why the
    # draft was not used ("primary: wrong_language: en", "primary: ungrounded: ..."), calls.
    phrase_model: str | None = None
    phrase_fallback: str | None = None
    phrase_calls: int = 0
    reply_detected: str | None = None  # LanguageDetector().detect(reply), after the run

    @property
    def wall_ms(self) -> float:
        return (self.ended - self.started) * 1000

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "wall_ms": self.wall_ms}


@dataclass
class Marks:
    """Wraps SupportAgent.send for the whole run: each call is a turn of the current case,
    and the recorder's tag names it while it runs."""

    recorder: Recorder
    turns: list[TurnMark] = field(default_factory=list)
    phase: str = ""
    case: str = ""
    _count: int = 0
    _current: TurnMark | None = None  # the turn whose SupportAgent.send is running

    def begin_case(self, phase: str, case: str) -> None:
        self.phase, self.case, self._count = phase, case, 0
        self.recorder.tag = {"phase": phase, "case": case, "turn": 0}

    def install(self) -> None:
        from supportgraph.runtime.agent import SupportAgent

        original = SupportAgent.send

        @functools.wraps(original)
        async def send(agent: Any, thread_id: str, text: str, *args: Any, **kwargs: Any) -> Any:
            self._count += 1
            mark = TurnMark(self.phase, self.case, self._count, text, time.perf_counter())
            self.turns.append(mark)
            self._current = mark
            self.recorder.tag = {"phase": self.phase, "case": self.case, "turn": self._count}
            try:
                record = await original(agent, thread_id, text, *args, **kwargs)
            finally:
                mark.ended = time.perf_counter()
                self._current = None
                # Requests between turns (none expected) must not count for this turn.
                self.recorder.tag = {"phase": self.phase, "case": self.case, "turn": 0}
            mark.latency_ms = float(record.latency_ms)
            mark.model = getattr(record, "model", None)
            mark.fallback = getattr(record, "fallback", None)
            mark.record_tokens_in = int(getattr(record, "tokens_in", 0) or 0)
            mark.record_tokens_out = int(getattr(record, "tokens_out", 0) or 0)
            mark.language = getattr(record, "language", None)
            mark.reply_language = getattr(record, "reply_language", None)
            mark.reply = str(getattr(record, "reply", "") or "")
            mark.author = getattr(record, "author", None)
            mark.intent = getattr(record, "intent", None)
            return record

        SupportAgent.send = send  # type: ignore[method-assign,assignment]
        self._install_phrase()

    def _install_phrase(self) -> None:
        """Wraps LLMService.phrase (on checkouts that have it): its outcome is the turn's
        phrasing result, and its requests are tagged part=phrasing."""
        try:
            from supportgraph.llm.service import LLMService
        except ImportError:
            return
        original = getattr(LLMService, "phrase", None)
        if original is None:
            return

        @functools.wraps(original)
        async def phrase(service: Any, *args: Any, **kwargs: Any) -> Any:
            mark, tag = self._current, dict(self.recorder.tag)
            self.recorder.tag = {**tag, "part": "phrasing"}
            try:
                outcome = await original(service, *args, **kwargs)
            finally:
                self.recorder.tag = tag
            if mark is not None:
                mark.phrase_model = getattr(outcome, "model", None)
                mark.phrase_fallback = getattr(outcome, "fallback", None)
                mark.phrase_calls = int(getattr(outcome, "calls", 0) or 0)
            return outcome

        LLMService.phrase = phrase  # type: ignore[method-assign]

    def detect_reply_languages(self) -> int:
        """Each turn's reply language as the project's detector reads it (after the run: its
        model loading must not count in any turn's time). Returns how many were read."""
        from supportgraph.nlu.language import LanguageDetector

        detector = LanguageDetector()
        read = 0
        for mark in self.turns:
            if mark.reply.strip():
                mark.reply_detected = detector.detect(mark.reply).language
                read += 1
        return read


def outcome(result: Any) -> dict[str, Any]:
    """A CaseResult as plain data: passed on all checks, and on decisions (everything but
    the wording checks, which a rewording model may fail without deciding anything else)."""
    failures = [
        {**f.as_dict(), "describe": f.describe(), "wording": f.field in WORDING_CHECKS}
        for f in result.failures
    ]
    decisions_ok = result.error is None and all(f["wording"] for f in failures)
    return {
        "id": result.case.id,
        "passed_all": result.passed,
        "passed_decisions": decisions_ok,
        "failures": failures,
        "error": result.error,
        "seconds": result.seconds,
    }


AfterCase = Callable[[str], Awaitable[None]]


async def run_mode(
    phase: str, cases: list[Any], settings: Any, marks: Marks, after_case: AfterCase | None
) -> list[dict[str, Any]]:
    """The cases one after another (never concurrently: turn times and model requests
    must not overlap with another case's)."""
    from supportgraph.evals.runner import prepare_shared, run_case

    marks.begin_case(f"{phase}-prepare", "")
    await prepare_shared(settings)
    results = []
    for number, case in enumerate(cases, 1):
        marks.begin_case(phase, case.id)
        result = outcome(await run_case(case, settings))
        results.append(result)
        state = "pass" if result["passed_all"] else "FAIL"
        print(f"  [{phase}] {number}/{len(cases)} {case.id}: {state} ({result['seconds']:.1f} s)")
        if after_case is not None:
            await after_case(case.id)
    marks.begin_case(f"{phase}-done", "")
    return results
