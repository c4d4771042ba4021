"""Calibrating the out-of-scope rejection: per-language probability thresholds.

Below its language's threshold, an in-scope intent is read as out_of_scope (nlu/intents.py).
The threshold is chosen on cross-validated predictions over the training data (never on a test
set): for each language, the highest threshold that rejects at most `max_false_rejection` of
the in-scope examples the model got right. The curve (threshold -> in-scope examples kept,
background examples rejected) is kept with the thresholds, so the trade-off is visible.

    python -m supportgraph.nlu.calibration      # rewrites nlu/data/rejection.json

Run it after changing the bundled training data; a unit test fails until you do.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from supportgraph.nlu.intents import (
    REJECTED,
    REJECTION_FILE,
    Examples,
    build_pipeline,
    data_hash,
    fit,
    model_inputs,
    read_examples,
)

FOLDS = 5
MAX_FALSE_REJECTION = 0.03  # extra in-scope rejections a threshold may cost (chosen on the dev set:
# 0.03 kept as many in-scope messages as no threshold at all and rejected more off-topic ones)
GRID = [round(0.05 * i, 2) for i in range(0, 17)]  # 0.0 .. 0.8


@dataclass(frozen=True)
class Prediction:
    language: str
    label: str
    top: str
    probability: float


def cross_validated(
    examples: Examples, folds: int = FOLDS, *, full: bool = False
) -> list[Prediction]:
    """Each example classified by a model that did not see it (stratified folds, seed 0);
    `full`: the full model's pipeline (intents.build_pipeline)."""
    from sklearn.model_selection import StratifiedKFold

    texts = model_inputs(examples.texts, full)
    out: list[Prediction | None] = [None] * len(texts)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train, test in splitter.split(texts, examples.labels):
        pipeline = fit(
            build_pipeline(full), [texts[i] for i in train], [examples.labels[i] for i in train]
        )
        probs = pipeline.predict_proba([texts[i] for i in test])
        for i, row in zip(test, probs, strict=True):
            best = int(row.argmax())
            out[i] = Prediction(
                examples.languages[i],
                examples.labels[i],
                str(pipeline.classes_[best]),
                float(row[best]),
            )
    return [p for p in out if p is not None]


def outcome(prediction: Prediction, threshold: float) -> str:
    """What the classifier answers with this threshold."""
    if prediction.top != REJECTED and prediction.probability < threshold:
        return REJECTED
    return prediction.top


def curve(predictions: list[Prediction]) -> dict[str, list[dict[str, float]]]:
    """Per language and threshold: in-scope examples answered right, in-scope examples
    rejected, background examples rejected."""
    by_lang: dict[str, list[Prediction]] = defaultdict(list)
    for p in predictions:
        by_lang[p.language].append(p)
    result: dict[str, list[dict[str, float]]] = {}
    for lang, preds in sorted(by_lang.items()):
        in_scope = [p for p in preds if p.label != REJECTED]
        background = [p for p in preds if p.label == REJECTED]
        rows = []
        for t in GRID:
            rows.append(
                {
                    "threshold": t,
                    "in_scope_correct": _share(in_scope, lambda p, t=t: outcome(p, t) == p.label),
                    "in_scope_rejected": _share(in_scope, lambda p, t=t: outcome(p, t) == REJECTED),
                    "off_topic_rejected": _share(
                        background, lambda p, t=t: outcome(p, t) == REJECTED
                    ),
                }
            )
        result[lang] = rows
    return result


def _share(items: list[Prediction], test: Any) -> float:
    return round(sum(1 for p in items if test(p)) / len(items), 4) if items else 0.0


def choose(rows: list[dict[str, float]], max_false_rejection: float) -> float:
    """The highest threshold whose extra in-scope rejections stay within the budget."""
    base = rows[0]["in_scope_rejected"]
    allowed = [r["threshold"] for r in rows if r["in_scope_rejected"] - base <= max_false_rejection]
    return max(allowed) if allowed else 0.0


def calibrate(max_false_rejection: float = MAX_FALSE_REJECTION) -> dict[str, Any]:
    # Each language on the model that reads it (IntentClassifier): the base languages on the
    # base corpus, the languages the folders add on everything.
    base = read_examples(folders=False)
    table = curve(cross_validated(base))
    added = {
        lang: rows
        for lang, rows in curve(cross_validated(read_examples(), full=True)).items()
        if lang not in table
    }
    table.update(added)
    thresholds = {lang: choose(rows, max_false_rejection) for lang, rows in table.items()}
    return {
        "data_hash": data_hash(),
        "max_false_rejection": max_false_rejection,
        "thresholds": thresholds,
        # A language without its own examples gets the most cautious calibrated threshold.
        "default": min(thresholds.values()) if thresholds else 0.0,
        "curve": table,
    }


def main() -> None:
    result = calibrate()
    REJECTION_FILE.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    for lang, rows in result["curve"].items():
        t = result["thresholds"][lang]
        row = next(r for r in rows if r["threshold"] == t)
        sys.stdout.write(
            f"{lang}: threshold {t:.2f}  in-scope correct {row['in_scope_correct']:.1%}  "
            f"off-topic rejected {row['off_topic_rejected']:.1%}\n"
        )


if __name__ == "__main__":
    main()
