"""KB retrieval per language: recall@1, recall@3, MRR and query time of each ranker.

    python bench/kb_languages.py [--questions bench/data/kb_dev.jsonl] [--independent]
                                 [--fresh] [--no-cold]

Questions are `{"text", "lang", "sections": ["shipping#2"]}`: a section is named by its topic
and its place among the topic's `##` sections (the same in every language). A question is
found at rank r when the r-th section returned is one of its sections.

Rankers (all over the demo shop's KB, supportgraph/brands/demo/kb):
- `wordllama+head`: the index before: WordLlama cosine, the best 6 re-ranked by the share of
  the question's word stems found in the heading (reimplemented here as it was).
- `bm25`: BM25 on knowledge/tokens.py terms (prefix stems, CJK bigrams, Arabic folding).
- `e5`: multilingual-e5-small cosine (heading + start of the text, knowledge/multilingual.py).
- `bm25+wordllama rrf`: reciprocal-rank fusion (k=60) of BM25 and WordLlama cosine, 1:1.
- `bm25+e5 rrf`: reciprocal-rank fusion of BM25 and e5, 1:2 (the embedding counted twice).
- `bm25+e5`: the shipped KnowledgeBase.search (Chroma, the real API): e5 cosine plus 0.05 x
  the BM25 score as a share of the question's best possible (knowledge/ranking.py).

Each twice: over the language's whole KB, and over the topics of the intent the question
belongs to (domain/intents.py: the intent listing the section's topic first, else the first
listing it), which is what nodes/retrieve.py searches when the intent is recognised.

Cold start: a new process opening the persisted index and answering one question.
`--independent` adds bench/data/independent/kb_questions.jsonl (never tune on it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from _stats import pct  # noqa: E402

from supportgraph.domain.intents import CATALOGUE  # noqa: E402
from supportgraph.domain.text import normalize  # noqa: E402
from supportgraph.knowledge.chunks import Chunk, chunk_directory  # noqa: E402
from supportgraph.knowledge.index import KnowledgeBase  # noqa: E402
from supportgraph.knowledge.tokens import terms  # noqa: E402

KB_DIR = ROOT / "supportgraph" / "brands" / "demo" / "kb"
DEV = HERE / "data" / "kb_dev.jsonl"
INDEPENDENT = HERE / "data" / "independent" / "kb_questions.jsonl"
INDEX_DIR = HERE / "out" / "kb_languages" / "index"
ORDER = ["en", "es", "fr", "de", "it", "pt", "nl", "zh", "ja", "ar"]
RANKERS = ["wordllama+head", "bm25", "e5", "bm25+wordllama rrf", "bm25+e5 rrf", "bm25+e5"]
SHIPPED = "bm25+e5"

# A ranker: (question, language, topics or None) -> chunk ids, best first.
Ranker = Callable[[str, str, list[str] | None], list[str]]


def intent_topics(topic: str) -> list[str]:
    """The topics searched when the question's intent is recognised."""
    owners = [i for i in CATALOGUE if topic in i.topics]
    first = [i for i in owners if i.topics[0] == topic]
    return list((first or owners)[0].topics) if owners else [topic]


def place_ids(chunks: list[Chunk]) -> dict[tuple[str, str], str]:
    """(language, "shipping#2") -> chunk id."""
    seen: dict[tuple[str, str], int] = defaultdict(int)
    out = {}
    for chunk in chunks:
        seen[(chunk.language, chunk.topic)] += 1
        out[(chunk.language, f"{chunk.topic}#{seen[(chunk.language, chunk.topic)]}")] = chunk.id
    return out


# -- the index before: WordLlama + heading stems, as supportgraph/knowledge/index.py had it --
def _stems(text: str) -> set[str]:
    return {w[:4] for w in re.findall(r"\w+", normalize(text)) if len(w) > 3}


def wordllama_rankers(
    chunks: list[Chunk],
) -> tuple[Ranker, Callable[[str, str, list[str] | None], list[str]]]:
    from supportgraph.knowledge.embedding import _wordllama

    model = _wordllama(256)
    by_lang: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        by_lang[chunk.language].append(chunk)
    vectors = {
        lang: model.embed([f"{c.heading}. {c.heading}. {c.text}" for c in cs], norm=True)
        for lang, cs in by_lang.items()
    }

    def cosine_order(query: str, lang: str, topics: list[str] | None) -> list[str]:
        cs = by_lang[lang]
        allowed = [i for i, c in enumerate(cs) if not topics or c.topic in topics]
        scores = vectors[lang][allowed] @ model.embed([query], norm=True)[0]
        return [cs[allowed[j]].id for j in np.argsort(-scores, kind="stable")]

    def with_heading(query: str, lang: str, topics: list[str] | None) -> list[str]:
        cs = {c.id: c for c in by_lang[lang]}
        q = model.embed([query], norm=True)[0]
        ranked = cosine_order(query, lang, topics)
        pool = ranked[:6]
        stems = _stems(query)
        cos = {cid: float(vectors[lang][list(cs).index(cid)] @ q) for cid in pool}

        def overlap(heading: str) -> float:
            return len(stems & _stems(heading)) / len(stems) if stems else 0.0

        pool.sort(key=lambda cid: -(cos[cid] + 0.5 * overlap(cs[cid].heading)))
        return pool + ranked[6:]

    return with_heading, cosine_order


def rrf(rankings: list[tuple[float, list[int]]], k: int = 60) -> list[int]:
    """Reciprocal-rank fusion: each ranking votes weight / (k + rank) for its items."""
    votes: dict[int, float] = defaultdict(float)
    for weight, ranked in rankings:
        for rank, item in enumerate(ranked, start=1):
            votes[item] += weight / (k + rank)
    return sorted(votes, key=lambda i: (-votes[i], i))


def kb_rankers(kb: KnowledgeBase, cosine_wordllama: Ranker) -> dict[str, Ranker]:
    from supportgraph.knowledge.multilingual import embed_query

    def alone(lexical: float, semantic: float) -> Ranker:
        def rank(query: str, lang: str, topics: list[str] | None) -> list[str]:
            vector = embed_query(query) if semantic else None
            index = kb.language_index(lang)
            return [s.id for s, _ in index.rank(query, vector, topics, lexical, semantic)]

        return rank

    def fused(semantic: Ranker, weight: float) -> Ranker:
        lexical = alone(1.0, 0.0)

        def rank(query: str, lang: str, topics: list[str] | None) -> list[str]:
            index = kb.language_index(lang)
            position = {s.id: i for i, s in enumerate(index.sections)}
            shares = index.bm25.share(terms(query))
            lex = [
                position[cid] for cid in lexical(query, lang, topics) if shares[position[cid]] > 0
            ]
            sem = [position[cid] for cid in semantic(query, lang, topics)]
            return [index.sections[i].id for i in rrf([(1.0, lex), (weight, sem)])]

        return rank

    def shipped(query: str, lang: str, topics: list[str] | None) -> list[str]:
        return [h.id for h in kb.search(query, lang, topics, k=100)]

    return {
        "bm25": alone(1.0, 0.0),
        "e5": alone(0.0, 1.0),
        "bm25+wordllama rrf": fused(cosine_wordllama, 1.0),
        "bm25+e5 rrf": fused(alone(0.0, 1.0), 2.0),
        "bm25+e5": shipped,
    }


def evaluate(
    questions: list[dict[str, Any]],
    places: dict[tuple[str, str], str],
    rank: Ranker,
    topic_filter: bool,
) -> dict[str, dict[str, float]]:
    found: dict[str, list[int | None]] = defaultdict(list)
    times: dict[str, list[float]] = defaultdict(list)
    for q in questions:
        lang = q["lang"]
        gold = {places.get((lang, s)) for s in q["sections"]} - {None}
        topics = intent_topics(q["sections"][0].split("#")[0]) if topic_filter else None
        start = time.perf_counter()
        ranked = rank(q["text"], lang, topics)
        times[lang].append((time.perf_counter() - start) * 1000)
        found[lang].append(next((r for r, cid in enumerate(ranked, 1) if cid in gold), None))
    out = {}
    for lang, ranks in found.items():
        n = len(ranks)
        out[lang] = {
            "n": n,
            "r1": 100 * sum(1 for r in ranks if r == 1) / n,
            "r3": 100 * sum(1 for r in ranks if r is not None and r <= 3) / n,
            "mrr": sum(1 / r for r in ranks if r) / n,
            "ms": pct(times[lang], 50),
        }
    every = [r for ranks in found.values() for r in ranks]
    n = len(every)
    out["all"] = {
        "n": n,
        "r1": 100 * sum(1 for r in every if r == 1) / n,
        "r3": 100 * sum(1 for r in every if r is not None and r <= 3) / n,
        "mrr": sum(1 / r for r in every if r) / n,
        "ms": pct([t for ts in times.values() for t in ts], 50),
    }
    return out


def cold_start(code: str) -> float:
    """ms from a new interpreter's first import to the first answer (median of 3)."""
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return sorted(runs)[1]


COLD_SHIPPED = """
import time; t = time.perf_counter()
from pathlib import Path
from supportgraph.knowledge.index import KnowledgeBase
KnowledgeBase(Path({index!r})).search("¿Cuánto cuesta el envío?", "es", ["shipping"])
print((time.perf_counter() - t) * 1000)
"""
COLD_BEFORE = """
import time; t = time.perf_counter()
import chromadb
from supportgraph.knowledge.embedding import _wordllama
_wordllama(256).embed(["¿Cuánto cuesta el envío?"], norm=True)
print((time.perf_counter() - t) * 1000)
"""


def table(title: str, results: dict[str, dict[str, dict[str, float]]]) -> None:
    langs = [lang for lang in ORDER if any(lang in r for r in results.values())]
    print(f"\n{title}")
    print(f"{'ranker':18} {'lang':4} {'n':>4} {'R@1':>6} {'R@3':>6} {'MRR':>5} {'p50 ms':>7}")
    for name, res in results.items():
        for lang in [*langs, "all"]:
            if lang in res:
                r = res[lang]
                print(
                    f"{name:18} {lang:4} {r['n']:4.0f} {r['r1']:6.1f} {r['r3']:6.1f} "
                    f"{r['mrr']:5.2f} {r['ms']:7.1f}"
                )
    print(f"\nR@3 by language ({title})")
    print(f"{'ranker':18} " + " ".join(f"{lang:>5}" for lang in [*langs, "all"]))
    for name, res in results.items():
        cells = [f"{res[lang]['r3']:5.0f}" if lang in res else "    -" for lang in [*langs, "all"]]
        print(f"{name:18} " + " ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=DEV)
    parser.add_argument("--independent", action="store_true", help=f"also {INDEPENDENT}")
    parser.add_argument("--fresh", action="store_true", help="rebuild the index (ingest time)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start runs")
    args = parser.parse_args()

    chunks = chunk_directory(KB_DIR)
    places = place_ids(chunks)
    if args.fresh and INDEX_DIR.exists():
        shutil.rmtree(INDEX_DIR)
    kb = KnowledgeBase(INDEX_DIR)
    start = time.perf_counter()
    report = kb.ingest(KB_DIR)
    print(f"ingest {report} in {time.perf_counter() - start:.1f} s")

    with_heading, cosine_wordllama = wordllama_rankers(chunks)
    rankers: dict[str, Ranker] = {
        "wordllama+head": with_heading,
        **kb_rankers(kb, cosine_wordllama),
    }
    for lang in {c.language for c in chunks}:  # warm: read each language once
        rankers[SHIPPED]("warm", lang, None)

    sets = [("dev", args.questions)] + ([("independent", INDEPENDENT)] if args.independent else [])
    for label, path in sets:
        lines = path.read_text(encoding="utf-8").splitlines()
        questions = [json.loads(line) for line in lines if line.strip()]
        known = {c.language for c in chunks}
        skipped = [q for q in questions if q["lang"] not in known]
        questions = [q for q in questions if q["lang"] in known]
        note = f", {len(skipped)} in languages without a KB skipped" if skipped else ""
        print(f"\n== {label}: {path.relative_to(ROOT)} ({len(questions)} questions{note})")
        for topic_filter in (False, True):
            results = {
                name: evaluate(questions, places, rankers[name], topic_filter) for name in RANKERS
            }
            scope = "intent topics" if topic_filter else "whole KB of the language"
            table(f"{label}, {scope}", results)

    if not args.no_cold:
        print("\ncold start (new process: import, open, first answer; median of 3)")
        print(f"  {SHIPPED:16} {cold_start(COLD_SHIPPED.format(index=str(INDEX_DIR))):7.0f} ms")
        print(
            f"  {'wordllama (before)':16} {cold_start(COLD_BEFORE):7.0f} ms  (chromadb + model + 1 query)"
        )


if __name__ == "__main__":
    main()
