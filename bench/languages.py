"""Understanding per language, on the independent sets (issue 16).

    python bench/languages.py [--data bench/data/independent] [--limit N]

Every message is one whole turn of the real agent (demo store, SQLite, offline NLU) in a new
thread. Per language: intent accuracy and macro-F1 over the labelled intents (out_of_scope
included: a rejected off-topic message is right), and fraud reports handed over at once vs
ordinary payment questions handed over. The sets were written by helpers who never saw the
training data (bench/data/independent/README.md): `intents.jsonl` and `offtopic.jsonl` for
en/es/fr/de, `intents_nine.jsonl` and `fraud_nine.jsonl` for it/pt/zh/ja/ar, `fraud.jsonl`, and
any later `<set>_<langs>.jsonl` (nl). Entities (order ids, sizes, colours, yes/no) are read
from `entities_*.jsonl` the way the understand node reads them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from _stats import pct  # noqa: E402

from supportgraph import Settings, SupportAgent  # noqa: E402

ORDER = ["en", "es", "fr", "de", "it", "pt", "zh", "ja", "ar", "nl"]
ENTITY_KINDS = ("order_id", "size", "colour", "confirmed")


def rows(path: Path, limit: int | None) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    found = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return found[:limit] if limit else found


def every(data: Path, prefix: str, limit: int | None) -> list[dict[str, Any]]:
    """Rows of <prefix>.jsonl and every <prefix>_<langs>.jsonl (a new language's set too)."""
    files = [data / f"{prefix}.jsonl", *sorted(data.glob(f"{prefix}_*.jsonl"))]
    return [row for path in files for row in rows(path, limit)]


def entity_scores(data: Path) -> dict[str, dict[str, tuple[int, int]]]:
    """lang -> kind -> (right, asked): what the understand node reads from each message (the
    same text folding, entity rules and yes/no words), compared key by key with the set."""
    from supportgraph.domain.lookup import reference_key
    from supportgraph.domain.text import plain_forms
    from supportgraph.nlu.entities import extract_entities
    from supportgraph.nlu.lexicon import confirmation

    scores: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for row in every(data, "entities", None):
        text = plain_forms(row["text"])
        found: dict[str, Any] = {**extract_entities(text), "confirmed": confirmation(text)}
        for kind, want in row["expect"].items():
            got = found.get(kind)
            if kind == "order_id":
                right = got is not None and reference_key(str(got)) == reference_key(want)
            else:
                right = got is not None and str(got).lower() == str(want).lower()
            tally = scores[row["lang"]][kind]
            tally[0] += int(right)
            tally[1] += 1
    return {lang: {k: (v[0], v[1]) for k, v in kinds.items()} for lang, kinds in scores.items()}


def detection_scores(data: Path) -> dict[str, tuple[int, int]]:
    """lang -> (detected right, messages of 3+ words) on language.jsonl, the way the
    detect_language node reads a first message (no conversation language yet)."""
    from supportgraph.domain.text import plain_forms
    from supportgraph.nlu.language import LanguageDetector
    from supportgraph.nlu.text import word_count

    detector = LanguageDetector()
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows(data / "language.jsonl", None):
        if row["lang"] in ORDER and word_count(row["text"]) >= 3:
            tally = scores[row["lang"]]
            tally[0] += int(detector.detect(plain_forms(row["text"])).language == row["lang"])
            tally[1] += 1
    return {lang: (v[0], v[1]) for lang, v in scores.items()}


def intent_rows(data: Path, limit: int | None) -> list[dict[str, Any]]:
    labelled = every(data, "intents", limit)
    off = [{**r, "intent": "out_of_scope"} for r in rows(data / "offtopic.jsonl", limit)]
    return labelled + [r for r in off if not r.get("near_scope")]


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    from sklearn.metrics import f1_score

    truth, guess = zip(*pairs, strict=True)
    return float(f1_score(truth, guess, average="macro", labels=sorted(set(truth))))


async def measure(data: Path, limit: int | None) -> dict[str, Any]:
    intents = intent_rows(data, limit)
    fraud = every(data, "fraud", limit)
    by_lang: dict[str, list[tuple[str, str]]] = defaultdict(list)
    handed: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    latency: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        async with SupportAgent.open(Settings(data_dir=Path(tmp))) as agent:
            for n, row in enumerate(intents):
                started = time.perf_counter()
                record = await agent.send(f"i{n}", row["text"])
                latency[row["lang"]].append((time.perf_counter() - started) * 1000)
                by_lang[row["lang"]].append((row["intent"], record.intent))
            for n, row in enumerate(fraud):
                record = await agent.send(f"f{n}", row["text"])
                critical = record.escalation.priority == "critical"
                handed[row["lang"]].append((bool(row["fraud"]), critical))
    entities = entity_scores(data)
    detected = detection_scores(data)
    table = {}
    for lang in [x for x in ORDER if x in by_lang]:
        pairs = by_lang[lang]
        reports = [got for is_fraud, got in handed[lang] if is_fraud]
        ordinary = [got for is_fraud, got in handed[lang] if not is_fraud]
        table[lang] = {
            "n": len(pairs),
            "accuracy": sum(a == b for a, b in pairs) / len(pairs),
            "macro_f1": macro_f1(pairs),
            "fraud_caught": sum(reports) / len(reports) if reports else None,
            "false_alarms": sum(ordinary) / len(ordinary) if ordinary else None,
            "p50_ms": pct(latency[lang], 50),
            "entities": entities.get(lang, {}),
            "detected": detected.get(lang),
        }
    return table


def show(table: dict[str, Any]) -> str:
    def share(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f}%"

    lines = [
        "| language | messages | intent accuracy | macro-F1 | fraud caught | false alarms | "
        "detected (3+ words) | turn p50 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for lang, r in table.items():
        lines.append(
            f"| {lang} | {r['n']} | {share(r['accuracy'])} | {r['macro_f1']:.3f} | "
            f"{share(r['fraud_caught'])} | {share(r['false_alarms'])} | "
            f"{share(r['detected'][0] / r['detected'][1]) if r['detected'] else '-'} | "
            f"{r['p50_ms']:.0f} ms |"
        )
    lines += ["", "| language | " + " | ".join(ENTITY_KINDS) + " |", "|---" * 5 + "|"]
    for lang, r in table.items():
        if r["entities"]:
            cells = [
                f"{right}/{asked}" if (right, asked) != (0, 0) else "-"
                for right, asked in (r["entities"].get(k, (0, 0)) for k in ENTITY_KINDS)
            ]
            lines.append(f"| {lang} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE / "data" / "independent")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    table = asyncio.run(measure(args.data, args.limit))
    print(show(table))
    if args.out:
        args.out.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
