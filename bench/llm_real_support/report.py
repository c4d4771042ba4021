"""From the raw numbers (the --out JSON) to the summary and its markdown table."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from _stats import pct  # bench/ is on sys.path when the script runs

from llm_real_support.cases import SERVED

MODES = ("offline", "llm")
TARGET_MODEL_RATIO = 1.3
MODEL_LAYERS = {"primary", "backup"}  # the phrasing layers whose answer is the model's own
EXAMPLES = 3  # examples per language of wrong-language replies and of refused drafts


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
    if any((data.get("case_languages") or {}).values()):
        summary["languages"] = languages(data)
    return summary


def fallback_reason(fallback: str | None) -> str:
    """The kind of the first reason a draft was refused: "primary: wrong_language: en" ->
    "wrong_language", "primary: ungrounded: 12.50" -> "ungrounded", "primary: timeout"."""
    first = (fallback or "").split("; ")[0]
    _, _, rest = first.partition(": ")
    return (rest or first).split(":")[0].strip() or "unknown"


def _draft(turn: dict[str, Any], requests: list[dict[str, Any]]) -> str | None:
    """The model's last phrasing draft of the turn, as the proxy saw it (redacted)."""
    drafts = [
        r.get("text")
        for r in requests_of(turn, requests)
        if is_model_call(r) and r["tag"].get("part") == "phrasing" and r.get("text")
    ]
    return drafts[-1] if drafts else None


def _language_of_turns(
    turns: list[dict[str, Any]], requests: list[dict[str, Any]], offline: dict[tuple, str]
) -> dict[str, Any]:
    """LLM-mode turns of one language: who wrote the replies, in which language, and how
    many are the offline run's reply for the same turn word for word (the model copied the
    template it was given as a fact)."""
    asked = [t for t in turns if t.get("phrase_model")]
    written = [t for t in asked if t["phrase_model"] in MODEL_LAYERS]
    rewritten = [t for t in written if t["reply"] != offline.get((t["case"], t["n"]))]
    called = [t for t in turns if any(is_model_call(r) for r in requests_of(t, requests))]
    fell_back = [t for t in asked if t["phrase_model"] not in MODEL_LAYERS]
    reasons: dict[str, int] = {}
    for t in fell_back:
        reason = fallback_reason(t.get("phrase_fallback"))
        reasons[reason] = reasons.get(reason, 0) + 1
    read = [t for t in written if t.get("reply_detected")]
    wrong = [t for t in read if t["reply_detected"] != t.get("language")]
    return {
        "turns": len(turns),
        "phrasing_asked": len(asked),
        "model_written": len(written),
        "model_written_as_offline": len(written) - len(rewritten),
        "template_fallback": len(fell_back),
        "fallback_reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "model_written_read": len(read),
        "model_written_right_language": len(read) - len(wrong),
        "wrong_language_examples": [
            {
                "case": t["case"],
                "turn": t["n"],
                "language": t.get("language"),
                "detected": t["reply_detected"],
                "reply": t["reply"],
            }
            for t in wrong[:EXAMPLES]
        ],
        "rewritten_examples": [
            {
                "case": t["case"],
                "turn": t["n"],
                "reply": t["reply"],
                "offline": offline.get((t["case"], t["n"])),
            }
            for t in rewritten[:EXAMPLES]
        ],
        "refused_draft_examples": [
            {
                "case": t["case"],
                "turn": t["n"],
                "reason": t.get("phrase_fallback"),
                "draft": _draft(t, requests),
                "sent": t["reply"],
            }
            for t in fell_back[:EXAMPLES]
        ],
        "latency_ms": _spread([t["latency_ms"] for t in turns]),
        "model_call_turn_latency_ms": _spread([t["latency_ms"] for t in called]),
    }


def languages(data: dict[str, Any]) -> dict[str, Any]:
    """Per case language: cases passed offline and in LLM mode, and the LLM-mode replies."""
    of_case: dict[str, str | None] = data["case_languages"]
    found = {lang for lang in of_case.values() if lang}
    order = [lang for lang in SERVED if lang in found] + sorted(found - set(SERVED))
    offline_replies = {
        (t["case"], t["n"]): t.get("reply") for t in data["turns"] if t["phase"] == "offline"
    }
    result: dict[str, Any] = {}
    for lang in [*order, "all"]:
        ids = {cid for cid, cl in of_case.items() if cl and (lang == "all" or cl == lang)}
        entry: dict[str, Any] = {"cases": len(ids)}
        for mode in MODES:
            mine = [c for c in data["modes"][mode] if c["id"] in ids]
            entry[mode] = {
                "decisions": sum(c["passed_decisions"] for c in mine),
                "all": sum(c["passed_all"] for c in mine),
            }
        turns = [t for t in data["turns"] if t["phase"] == "llm" and t["case"] in ids]
        entry.update(_language_of_turns(turns, data["requests"], offline_replies))
        offline_read = [
            t
            for t in data["turns"]
            if t["phase"] == "offline" and t["case"] in ids and t.get("reply_detected")
        ]
        entry["offline_replies_read"] = len(offline_read)
        entry["offline_right_language"] = sum(
            t["reply_detected"] == t.get("language") for t in offline_read
        )
        result[lang] = entry
    return result


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _of(part: int, whole: int) -> str:
    return f"{part}/{whole} ({_pct(part / whole)})" if whole else f"{part}/0"


def _one_line(text: str | None, limit: int = 220) -> str:
    flat = " ".join((text or "").split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _examples(
    by_language: dict[str, Any], key: str, heading: str, line: Callable[[str, Any], str]
) -> list[str]:
    """A heading and one line per example kept under `key`, language by language."""
    found = [(lang, x) for lang, e in by_language.items() if lang != "all" for x in e.get(key, [])]
    return [f"\n{heading}:\n", *(line(lang, x) for lang, x in found)] if found else []


def languages_markdown(by_language: dict[str, Any]) -> str:
    """The per-language table, then examples of model replies in another language and of
    drafts a template replaced."""
    rows = [
        "\n### Per language (LLM-mode replies: written by the model vs a template fallback)\n",
        "| lang | cases | pass offline: decisions / all | pass LLM: decisions / all | LLM turns "
        "| phrasing asked | model-written (of asked) | of those, the offline reply verbatim "
        "| template fallback: reasons | model-written in the customer's language "
        "| offline replies in it | LLM turn p50 / p95 (ms) | p50 of turns calling the model (n) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lang, e in by_language.items():
        n = e["cases"]
        reasons = ", ".join(f"{k} {v}" for k, v in e["fallback_reasons"].items()) or "-"
        called = e.get("model_call_turn_latency_ms") or {"p50": 0.0, "n": 0}
        rows.append(
            f"| {'**all**' if lang == 'all' else lang} | {n} "
            f"| {_of(e['offline']['decisions'], n)} / {_of(e['offline']['all'], n)} "
            f"| {_of(e['llm']['decisions'], n)} / {_of(e['llm']['all'], n)} "
            f"| {e['turns']} | {e['phrasing_asked']} "
            f"| {_of(e['model_written'], e['phrasing_asked'])} "
            f"| {_of(e.get('model_written_as_offline', 0), e['model_written'])} "
            f"| {e['template_fallback']}: {reasons} "
            f"| {_of(e['model_written_right_language'], e['model_written_read'])} "
            f"| {_of(e['offline_right_language'], e['offline_replies_read'])} "
            f"| {e['latency_ms']['p50']:.0f} / {e['latency_ms']['p95']:.0f} "
            f"| {called['p50']:.0f} ({called['n']}) |"
        )
    rows += _examples(
        by_language,
        "wrong_language_examples",
        "Model-written replies the detector reads as another language",
        lambda lang, x: (
            f"- {lang} {x['case']} turn {x['turn']} (read as {x['detected']}): "
            f"{_one_line(x['reply'])}"
        ),
    )
    rows += _examples(
        by_language,
        "rewritten_examples",
        "Model-written replies that differ from the offline run's reply",
        lambda lang, x: (
            f'- {lang} {x["case"]} turn {x["turn"]}: "{_one_line(x["reply"], 400)}" '
            f'(offline: "{_one_line(x["offline"], 160)}")'
        ),
    )
    rows += _examples(
        by_language,
        "refused_draft_examples",
        "Drafts replaced by the template (first ones per language)",
        lambda lang, x: (
            f"- {lang} {x['case']} turn {x['turn']} ({x['reason']}): draft "
            f'"{_one_line(x["draft"])}"'
        ),
    )
    return "\n".join(rows)


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
