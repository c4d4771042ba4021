"""From the raw numbers (the --out JSON) to the summary and its markdown table."""

from __future__ import annotations

import statistics
from typing import Any

from _stats import pct  # bench/ is on sys.path when the script runs

MODES = ("offline", "llm")
TARGET_MODEL_RATIO = 1.3


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "max": max(values, default=0.0),
        "mean": statistics.mean(values) if values else 0.0,
    }


def tokens_out(request: dict[str, Any]) -> int:
    """Generated tokens: the answer's usage when it has one (non-streamed answers), else
    the server log's decode runs (streamed answers carry no usage on this server)."""
    usage = request.get("usage") or {}
    if usage.get("completion_tokens") is not None:
        return int(usage["completion_tokens"])
    gen = request.get("generation") or {}
    return int(gen.get("eval_runs") or 0)


def tokens_in(request: dict[str, Any]) -> int:
    gen = request.get("generation")
    if gen:
        return int(gen["prompt_tokens"])
    return int((request.get("usage") or {}).get("prompt_tokens") or 0)


def is_model_call(request: dict[str, Any]) -> bool:
    """A chat completion; not a tokenizer request (supportgraph counts a stream's tokens with
    the server's tokenizer when the stream carries no usage)."""
    return str(request.get("path", "")).endswith("/chat/completions")


def requests_of(turn: dict[str, Any], requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in requests
        if r["tag"].get("phase") == turn["phase"]
        and r["tag"].get("case") == turn["case"]
        and r["tag"].get("turn") == turn["n"]
    ]


def _pass_rates(cases: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "cases": len(cases),
        "decisions": _share([c["passed_decisions"] for c in cases]),
        "all": _share([c["passed_all"] for c in cases]),
    }


def _regressions(offline: list[dict[str, Any]], llm: list[dict[str, Any]]) -> list[dict[str, Any]]:
    passed_offline = {c["id"] for c in offline if c["passed_all"]}
    return [
        {
            "id": c["id"],
            "decisions_failed": not c["passed_decisions"],
            "error": c["error"],
            "failures": [f["describe"] for f in c["failures"]],
        }
        for c in llm
        if c["id"] in passed_offline and not c["passed_all"]
    ]


def _model_turns(turns: list[dict[str, Any]], requests: list[dict[str, Any]]) -> dict[str, Any]:
    """Model cost per LLM-mode turn, and how the turn's time compares to it."""
    calls, t_in, t_out, model_ratio, bare_ratio, counts = [], [], [], [], [], []
    for turn in turns:
        everything = requests_of(turn, requests)
        mine = [r for r in everything if is_model_call(r)]
        counts.append(len(everything) - len(mine))
        calls.append(len(mine))
        t_in.append(float(sum(tokens_in(r) for r in mine)))
        t_out.append(float(sum(tokens_out(r) for r in mine)))
        # Time inside the model: its completions and the tokenizer requests that counted them.
        inside_ms = 1000 * sum(r["seconds"] or 0.0 for r in everything)
        if mine and inside_ms > 0:
            model_ratio.append(turn["latency_ms"] / inside_ms)
        if mine and turn.get("bare_ms"):
            bare_ratio.append(turn["latency_ms"] / turn["bare_ms"])
    return {
        "calls_per_turn_mean": statistics.mean(calls) if calls else 0.0,
        "tokenizer_requests_per_turn_mean": statistics.mean(counts) if counts else 0.0,
        "turns_without_calls": _share([c == 0 for c in calls]),
        "tokens_in_per_turn": _spread(t_in),
        "tokens_out_per_turn": _spread(t_out),
        "turn_over_model_time": _spread(model_ratio),
        "turn_over_bare_call": _spread(bare_ratio),
    }


def _server_side(requests: list[dict[str, Any]], unmatched: int) -> dict[str, Any]:
    gens = [r["generation"] for r in requests if r.get("generation")]
    turn_gens = [
        r["generation"]
        for r in requests
        if r.get("generation") and r["tag"].get("phase") == "llm" and r["tag"].get("turn")
    ]

    def hit_rate(items: list[dict[str, Any]]) -> float:
        total = sum(g["prompt_tokens"] for g in items)
        return sum(g["prefix_hit"] for g in items) / total if total else 0.0

    aborted = [r for r in requests if r["aborted"]]
    ran_on = [
        r["generation"]["ended"] - r["ended"]
        for r in aborted
        if r.get("generation") and r["generation"].get("ended") and r["ended"]
    ]
    return {
        "requests": len(requests),
        "with_generation": len(gens),
        "generations_unmatched": unmatched,
        "prefix_hit_rate_all": hit_rate(gens),
        "prefix_hit_rate_turns": hit_rate(turn_gens),
        "errors": sum(1 for r in requests if r["error"] or (r["status"] or 200) >= 400),
        "aborted_by_client": len(aborted),
        "ran_on_after_client_left_s": sorted(ran_on),
    }


def summarise(data: dict[str, Any]) -> dict[str, Any]:
    modes = data["modes"]
    requests = data["requests"]
    summary: dict[str, Any] = {
        mode: {
            **_pass_rates(modes[mode]),
            "latency_ms": _spread([t["latency_ms"] for t in data["turns"] if t["phase"] == mode]),
        }
        for mode in MODES
    }
    llm_turns = [t for t in data["turns"] if t["phase"] == "llm"]
    summary["llm"].update(_model_turns(llm_turns, requests))
    summary["offline"]["model_requests"] = sum(
        1 for r in requests if r["tag"].get("phase") == "offline"
    )
    summary["regressions"] = _regressions(modes["offline"], modes["llm"])
    summary["server"] = _server_side(requests, data["generations_unmatched"])
    return summary


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def markdown(label: str, s: dict[str, Any]) -> str:
    off, llm, srv = s["offline"], s["llm"], s["server"]
    lat_off, lat_llm = off["latency_ms"], llm["latency_ms"]
    ratio, bare = llm["turn_over_model_time"], llm["turn_over_bare_call"]
    t_in, t_out = llm["tokens_in_per_turn"], llm["tokens_out_per_turn"]
    rows = [
        f"### {label}: {off['cases']} cases, {lat_llm['n']} LLM-mode turns\n",
        "| measure | offline | LLM mode |",
        "|---|---|---|",
        f"| pass rate, decisions | {_pct(off['decisions'])} | {_pct(llm['decisions'])} |",
        f"| pass rate, all checks | {_pct(off['all'])} | {_pct(llm['all'])} |",
        f"| turn latency p50 / p95 / max (ms) | {lat_off['p50']:.0f} / {lat_off['p95']:.0f} / "
        f"{lat_off['max']:.0f} | {lat_llm['p50']:.0f} / {lat_llm['p95']:.0f} / "
        f"{lat_llm['max']:.0f} |",
        f"| model calls per turn (mean; share of turns with 0) | {off['model_requests']} "
        f"requests in all | {llm['calls_per_turn_mean']:.2f}; {_pct(llm['turns_without_calls'])} |",
        f"| tokenizer requests per turn (counting streamed tokens) | - | "
        f"{llm.get('tokenizer_requests_per_turn_mean', 0.0):.2f} |",
        f"| tokens in per turn (mean / p50 / max) | - | {t_in['mean']:.0f} / {t_in['p50']:.0f} / "
        f"{t_in['max']:.0f} |",
        f"| tokens out per turn (mean / p50 / max) | - | {t_out['mean']:.0f} / "
        f"{t_out['p50']:.0f} / {t_out['max']:.0f} |",
        f"| prefix-cache hit rate (turn requests; all requests) | - | "
        f"{_pct(srv['prefix_hit_rate_turns'])}; {_pct(srv['prefix_hit_rate_all'])} |",
        f"| turn time ÷ time in model requests, p50 / mean (n={ratio['n']}; target ≤ "
        f"{TARGET_MODEL_RATIO}) | - | {ratio['p50']:.2f} / {ratio['mean']:.2f} |",
        f"| turn time ÷ one bare call, p50 (n={bare['n']}) | - | {bare['p50']:.2f} |",
        f"| model requests: all / with a server generation / errors / left by the client "
        f"| - | {srv['requests']} / {srv['with_generation']} / {srv['errors']} / "
        f"{srv['aborted_by_client']} |",
    ]
    if srv["ran_on_after_client_left_s"]:
        ran = ", ".join(f"{x:.1f}" for x in srv["ran_on_after_client_left_s"])
        rows.append(f"\nGenerations that ran on after their client left (s): {ran}")
    if s["regressions"]:
        rows.append("\nPass offline, fail in LLM mode:\n")
        for reg in s["regressions"]:
            kind = "decisions" if reg["decisions_failed"] else "wording only"
            rows.append(f"- **{reg['id']}** ({kind})")
            rows += [f"  - {line}" for line in reg["failures"]]
            if reg["error"]:
                rows.append(f"  - error: {reg['error']}")
    return "\n".join(rows)
