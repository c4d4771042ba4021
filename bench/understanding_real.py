"""How the bot understands real customers, on sets written by independent authors.

    python bench/understanding_real.py [--data bench/data/independent] [--limit N]

The sets (bench/data/independent/, see its README) were written by helpers who never saw the
training data. Every message is one whole turn of the real agent (demo store, SQLite, offline
NLU) in a new thread, and the table reports what a customer would get:

- in-scope: the intent of the turn is the labelled one;
- off-topic: rejected, i.e. the turn's intent is out_of_scope, or it only offered a person
  (low confidence) and did not hand the conversation over; near-scope rows reported apart;
- fraud: a fraud report ends in a critical handoff; an ordinary payment question must not;
- language: the detector's answer for a first message, by length (words; zh/ja characters/2).

Then the rejection threshold's calibration curve (cross-validated on the training data, from
nlu/data/rejection.json) and the same curve measured on the independent sets, and the turn
latency (p50/p95) of these turns. LLM mode is measured when SUPPORTGRAPH_LLM__* settings are
present in the environment; otherwise the line says so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from supportgraph import Settings, SupportAgent  # noqa: E402
from supportgraph.nlu.intents import REJECTED, REJECTION_FILE, IntentClassifier  # noqa: E402
from supportgraph.nlu.language import LanguageDetector  # noqa: E402

# The test author used ISO 639-1 "nb" for Norwegian Bokmål; the detector answers "no".
LANGUAGE_ALIASES = {"nb": "no"}
REPLY_LANGUAGES = ("en", "es", "fr", "de")


def read(path: Path, limit: int | None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if limit:
        by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_lang[row["lang"]].append(row)
        rows = [r for group in by_lang.values() for r in group[:limit]]
    return rows


def pct(hits: int, total: int) -> str:
    return f"{hits / total:.1%}" if total else "-"


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


async def run_turns(agent: SupportAgent, rows: list[dict[str, Any]], tag: str) -> list[Any]:
    records = []
    for n, row in enumerate(rows):
        records.append(await agent.send(f"{tag}-{n}", row["text"]))
    return records


def rejected(record: Any) -> bool:
    escalation = record.escalation
    return record.intent == REJECTED or (
        escalation.action == "offer" and escalation.reason == "low_confidence"
    )


def critical(record: Any) -> bool:
    return record.escalation.action == "handoff" and record.escalation.priority == "critical"


def by_language(rows: list[dict[str, Any]], hits: list[bool]) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, hit in zip(rows, hits, strict=True):
        counts[row["lang"]][0] += int(hit)
        counts[row["lang"]][1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def languages_report(rows: list[dict[str, Any]]) -> None:
    detector = LanguageDetector()
    buckets = {"1-2 words": (1, 2), "3-6 words": (3, 6), "7+ words": (7, 10_000)}
    counts: dict[str, list[int]] = {b: [0, 0] for b in buckets}
    per_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        want = LANGUAGE_ALIASES.get(row["lang"], row["lang"])
        hit = detector.detect(row["text"]).language == want
        words = int(row.get("words") or len(row["text"].split()))
        for name, (low, high) in buckets.items():
            if low <= words <= high:
                counts[name][0] += int(hit)
                counts[name][1] += 1
        if words >= 3:
            per_lang[want][0] += int(hit)
            per_lang[want][1] += 1
    three_plus = [sum(counts[b][i] for b in ("3-6 words", "7+ words")) for i in (0, 1)]
    table(
        f"Language identification ({len(per_lang)} languages)",
        ["length", "messages", "correct"],
        [[b, c[1], pct(*c)] for b, c in counts.items()]
        + [["**3+ words**", three_plus[1], f"**{pct(*three_plus)}**"]],
    )
    weakest = sorted(per_lang.items(), key=lambda kv: kv[1][0] / kv[1][1])[:6]
    print(
        "\nweakest languages on 3+ words: "
        + ", ".join(f"{k} {pct(*v)}" for k, v in weakest)
        + f"; detectable languages: {len(detector.languages)}"
    )


def calibration_report(
    classifier: IntentClassifier, in_scope: list[dict[str, Any]], off_topic: list[dict[str, Any]]
) -> None:
    data = json.loads(REJECTION_FILE.read_text(encoding="utf-8"))
    rows = []
    for lang in REPLY_LANGUAGES:
        chosen = data["thresholds"].get(lang)
        for r in data["curve"].get(lang, []):
            mark = " ←" if r["threshold"] == chosen else ""
            rows.append(
                [
                    lang,
                    f"{r['threshold']:.2f}{mark}",
                    f"{r['in_scope_correct']:.1%}",
                    f"{r['in_scope_rejected']:.1%}",
                    f"{r['off_topic_rejected']:.1%}",
                ]
            )
    table(
        "Rejection threshold: calibration curve (5-fold cross-validation on the training data; "
        "← the calibrated threshold)",
        ["lang", "threshold", "in-scope correct", "in-scope rejected", "background rejected"],
        [
            r
            for r in rows
            if float(r[1].split()[0]) in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6) or "←" in r[1]
        ],
    )

    def top(text: str) -> tuple[str, float]:
        label, p = max(
            zip(
                classifier.labels, classifier.pipeline.predict_proba([_prep(text)])[0], strict=True
            ),
            key=lambda lp: lp[1],
        )
        return str(label), float(p)

    from supportgraph.nlu.intents import prepare as _prep

    scored_in = [(r, top(r["text"])) for r in in_scope if r["intent"] != REJECTED]
    scored_off = [(r, top(r["text"])) for r in off_topic]
    rows = []
    for t in (0.0, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6):
        kept = sum(1 for r, (lab, p) in scored_in if lab == r["intent"] and p >= t)
        off = sum(1 for _, (lab, p) in scored_off if lab == REJECTED or p < t)
        rows.append([f"{t:.2f}", pct(kept, len(scored_in)), pct(off, len(scored_off))])
    table(
        "The same curve on the independent sets (classifier alone, all languages; "
        "for reading, not for tuning)",
        ["threshold", "in-scope right and kept", "off-topic rejected"],
        rows,
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=HERE / "data" / "independent")
    parser.add_argument("--limit", type=int, default=None, help="rows per language per set")
    args = parser.parse_args()
    in_scope = read(args.data / "intents.jsonl", args.limit)
    off_topic = read(args.data / "offtopic.jsonl", args.limit)
    fraud = read(args.data / "fraud.jsonl", args.limit)
    languages = read(args.data / "language.jsonl", args.limit)

    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="sg-understanding-")))
    if settings.llm is not None:
        print("LLM mode: configured, measured below with the model in SUPPORTGRAPH_LLM__*")
    else:
        print("LLM mode: not configured (no SUPPORTGRAPH_LLM__* settings): offline NLU only")
    started = time.perf_counter()
    async with SupportAgent.open(settings) as agent:
        await agent.send("warm", "hello")
        in_records = await run_turns(agent, in_scope, "in")
        off_records = await run_turns(agent, off_topic, "off")
        fraud_records = await run_turns(agent, fraud, "fraud")
        classifier = agent._deps.intents  # the agent's own fitted model, for the curve
    seconds = time.perf_counter() - started

    right = [rec.intent == row["intent"] for row, rec in zip(in_scope, in_records, strict=True)]
    far = [r for r in off_topic if not r.get("near_scope")]
    near = [r for r in off_topic if r.get("near_scope")]
    off_hits = [rejected(rec) for rec in off_records]
    off_by = dict(zip((id(r) for r in off_topic), off_hits, strict=True))
    handed_reasons: dict[str, int] = defaultdict(int)
    for rec in off_records:
        if rec.escalation.action == "handoff":
            handed_reasons[str(rec.escalation.reason).split(":")[0]] += 1
    handed = sum(handed_reasons.values())
    fraud_rows = [r for r in fraud if r["fraud"]]
    normal_rows = [r for r in fraud if not r["fraud"]]
    fraud_by = {id(r): critical(rec) for r, rec in zip(fraud, fraud_records, strict=True)}
    rows = []
    langs = sorted({r["lang"] for r in in_scope + off_topic + fraud})
    for lang in [*langs, "all"]:

        def of(items: list[dict[str, Any]], lang: str = lang) -> list[dict[str, Any]]:
            return [r for r in items if lang == "all" or r["lang"] == lang]

        ins = [(r, h) for r, h in zip(in_scope, right, strict=True) if r in of(in_scope)]
        rows.append(
            [
                f"**{lang}**" if lang == "all" else lang,
                pct(sum(h for _, h in ins), len(ins)),
                pct(sum(off_by[id(r)] for r in of(far)), len(of(far))),
                pct(sum(off_by[id(r)] for r in of(near)), len(of(near))),
                pct(sum(fraud_by[id(r)] for r in of(fraud_rows)), len(of(fraud_rows))),
                pct(sum(fraud_by[id(r)] for r in of(normal_rows)), len(of(normal_rows))),
            ]
        )
    table(
        f"Understanding, offline NLU, whole turns ({len(in_scope)} in-scope, {len(off_topic)} "
        f"off-topic, {len(fraud)} fraud/payment messages)",
        [
            "lang",
            "in-scope intent right",
            "off-topic rejected",
            "near-scope rejected",
            "fraud → critical handoff",
            "payment questions → critical (false alarms)",
        ],
        rows,
    )
    print(
        f"\noff-topic messages handed to a person (not only offered one): {handed}"
        + (
            f" ({', '.join(f'{k} {v}' for k, v in sorted(handed_reasons.items()))})"
            if handed
            else ""
        )
    )
    styles: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, hit in zip(in_scope, right, strict=True):
        styles[row.get("style", "-")][0] += int(hit)
        styles[row.get("style", "-")][1] += 1
    table(
        "In-scope intent by writing style",
        ["style", "messages", "right"],
        [[k, v[1], pct(*v)] for k, v in sorted(styles.items())],
    )
    intents: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, hit in zip(in_scope, right, strict=True):
        intents[row["intent"]][0] += int(hit)
        intents[row["intent"]][1] += 1
    table(
        "In-scope intent by intent",
        ["intent", "messages", "right"],
        [[k, v[1], pct(*v)] for k, v in sorted(intents.items())],
    )
    latencies = [
        rec.latency_ms for rec in (*in_records, *off_records, *fraud_records) if rec.latency_ms
    ]
    q = statistics.quantiles(latencies, n=20)
    print(
        f"\nturn latency over {len(latencies)} first turns: p50 {statistics.median(latencies):.1f}"
        f" ms, p95 {q[18]:.1f} ms (wall {seconds:.0f} s)"
    )
    languages_report(languages)
    calibration_report(classifier, in_scope, off_topic)


if __name__ == "__main__":
    asyncio.run(main())
