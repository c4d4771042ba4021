"""Compare offline NLU candidates on the project's own labelled data (tests/data).

Language detection: py3langid (+ our short-message rules, as shipped), raw py3langid,
langdetect, lingua. Intent: TF-IDF char+word + SGD logistic loss (shipped), TF-IDF char
only + LinearSVC, WordLlama embeddings + LogisticRegression.

    python bench/nlu_compare.py
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGS = ["en", "es", "fr", "de", "pt", "it", "nl", "ar", "zh", "ja", "ru", "pl", "tr"]


def rows(name: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (ROOT / "tests" / "data" / name).open(encoding="utf-8")]


def timed(fn, items):  # type: ignore[no-untyped-def]
    out, start = [], time.perf_counter()
    for item in items:
        out.append(fn(item))
    return out, (time.perf_counter() - start) / max(1, len(items)) * 1000


def language_table() -> list[tuple[str, str, str, str, str]]:
    from supportgraph.nlu.language import LanguageDetector
    from supportgraph.nlu.text import word_count

    data = rows("language_test.jsonl")
    long_ = [r for r in data if word_count(r["text"]) >= 3]
    short = [r for r in data if word_count(r["text"]) < 3]
    results = []

    def score(name, load, fn):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        model = load()
        load_s = time.perf_counter() - start
        preds_long, ms = timed(lambda t: fn(model, t), [r["text"] for r in long_])
        preds_short, _ = timed(lambda t: fn(model, t), [r["text"] for r in short])
        acc_long = statistics.mean(p == r["lang"] for p, r in zip(preds_long, long_, strict=True))
        acc_short = statistics.mean(p == r["lang"] for p, r in zip(preds_short, short, strict=True))
        results.append((name, f"{acc_long:.1%}", f"{acc_short:.1%}", f"{ms:.3f}", f"{load_s:.2f}"))

    def shipped():  # type: ignore[no-untyped-def]
        d = LanguageDetector()
        d.warm()
        return d

    score(
        "supportgraph (py3langid + short rules), no context",
        shipped,
        lambda m, t: m.detect(t).language,
    )
    # Short messages inside a conversation inherit its language; simulate a conversation in
    # the labelled language for the 1-2 word items (what a real turn sees).
    score(
        "supportgraph, 1-2 words inside a conversation",
        shipped,
        lambda m, t: m.detect(t, previous=_truth(data, t)).language,
    )
    score("py3langid raw (13 languages)", lambda: shipped()._model, lambda m, t: m.classify(t)[0])
    try:
        import langdetect

        def ld(m, t):  # type: ignore[no-untyped-def]
            try:
                return m.detect(t).split("-")[0]
            except Exception:
                return "en"

        langdetect.DetectorFactory.seed = 0
        score("langdetect", lambda: langdetect, ld)
    except ImportError:
        pass
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        def lingua_load():  # type: ignore[no-untyped-def]
            codes = [getattr(IsoCode639_1, c.upper()) for c in LANGS]
            return (
                LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
                .with_preloaded_language_models()
                .build()
            )

        def lingua_detect(m, t):  # type: ignore[no-untyped-def]
            lang = m.detect_language_of(t)
            return lang.iso_code_639_1.name.lower() if lang else "en"

        score("lingua (13 languages, preloaded)", lingua_load, lingua_detect)
    except ImportError:
        pass
    return results


def _truth(data: list[dict[str, str]], text: str) -> str:
    return next(r["lang"] for r in data if r["text"] == text)


def intent_table() -> list[tuple[str, str, str, str]]:
    from supportgraph.nlu.intents import IntentClassifier, load_examples, prepare

    texts, labels = load_examples()
    test = rows("intent_test.jsonl")
    results = []

    def score(name, fit, predict):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        model = fit()
        fit_s = time.perf_counter() - start
        preds, ms = timed(lambda t: predict(model, t), [r["text"] for r in test])
        acc = statistics.mean(p == r["intent"] for p, r in zip(preds, test, strict=True))
        results.append((name, f"{acc:.1%}", f"{ms:.2f}", f"{fit_s:.1f}"))

    score(
        "TF-IDF char 2-5 + word 1-2, SGD logistic loss (shipped)",
        lambda: IntentClassifier.train(texts, labels),
        lambda m, t: m.classify(t).intent,
    )

    def svc():  # type: ignore[no-untyped-def]
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import LinearSVC

        pipe = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True), LinearSVC()
        )
        return pipe.fit([prepare(t) for t in texts], labels)

    score("TF-IDF char 2-5, LinearSVC", svc, lambda m, t: m.predict([prepare(t)])[0])

    def wordllama_lr():  # type: ignore[no-untyped-def]
        from sklearn.linear_model import LogisticRegression

        from supportgraph.knowledge.embedding import _wordllama

        wl = _wordllama(256)
        clf = LogisticRegression(C=10, max_iter=3000).fit(
            wl.embed([prepare(t) for t in texts]), labels
        )
        return wl, clf

    score(
        "WordLlama-256 embeddings, LogisticRegression",
        wordllama_lr,
        lambda m, t: m[1].predict(m[0].embed([prepare(t)]))[0],
    )
    return results


def print_table(title: str, header: tuple[str, ...], body: list[tuple[str, ...]]) -> None:
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in body:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    print_table(
        "Language detection (tests/data/language_test.jsonl)",
        ("candidate", "3+ words", "1-2 words", "ms/call", "load s"),
        language_table(),
    )
    print_table(
        "Intent classification (tests/data/intent_test.jsonl, 14 intents, 4 languages)",
        ("candidate", "accuracy", "ms/call", "fit s"),
        intent_table(),
    )
