"""Choosing the full intent model (the one that reads the languages the folders add) by 5-fold
stratified cross-validation on the training examples only (nlu/data + languages/*/).

Each variant is fitted on 4/5 of every training example (all languages, as the full model is)
and read on the held-out fifth; each folder language is then scored on its own held-out
examples: accuracy counting out_of_scope, with that language's rejection threshold chosen on
the same cross-validated predictions the way nlu/calibration.py chooses it, and macro-F1 over
the 14 labels at that threshold. Never reads a test set (bench/data, tests/).

    python bench/intent_model_cv.py                       # the table (~10 min, 2 cores)
    python bench/intent_model_cv.py shipped full          # only the named variants
    python bench/intent_model_cv.py --repeats 1 logreg    # one split (seed 0) only
"""

from __future__ import annotations

import argparse
import functools
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from supportgraph.nlu import embedded, intents, segment
from supportgraph.nlu.calibration import (
    MAX_FALSE_REJECTION,
    Prediction,
    choose,
    curve,
    outcome,
)
from supportgraph.nlu.intents import REJECTED, read_examples

FOLDS = 5
LANGS = ["it", "pt", "zh", "ja", "ar", "nl"]  # the languages the folders add


# --- experimental pieces (what the variants try; the shipped full model uses none of them) ---

# Arabic letter forms normalize() leaves (alef wasla, ta marbuta, alef maqsura, Persian kaf and
# yeh) folded into the ones customers type, tatweel dropped (hamza forms and diacritics already
# fold in normalize()).
ARABIC_FORMS = str.maketrans(
    {"\u0671": "\u0627", "\u0629": "\u0647", "\u0649": "\u064a", "\u06a9": "\u0643"}
    | {"\u06cc": "\u064a", "\u0640": None}
)


def prepare_arabic(text: str) -> str:
    return intents.prepare(text).translate(ARABIC_FORMS)


CJK = intents._UNSPACED.pattern.strip("()")
CJK_RUN = re.compile(CJK + "(?: " + CJK + ")*")


def cjk_ngrams(text: str, low: int = 1, high: int = 3) -> list[str]:
    """Character n-grams of each run of Chinese/Japanese characters of a prepared text (where
    prepare() spaced them out, so char_wb sees them one by one)."""
    grams: list[str] = []
    for run in CJK_RUN.findall(text):
        chars = run.replace(" ", "")
        for n in range(low, high + 1):
            grams.extend(chars[i : i + n] for i in range(len(chars) - n + 1))
    return grams


class PlattSVC:
    """LinearSVC, its per-intent scores mapped to probabilities by sigmoids fitted on
    cross-validated scores (CalibratedClassifierCV, ensemble=False)."""

    def __init__(self, c: float = 0.5) -> None:
        self.c = c

    def fit(self, x: Any, y: Any, sample_weight: Any = None) -> PlattSVC:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC

        self.model = CalibratedClassifierCV(
            LinearSVC(C=self.c), method="sigmoid", cv=3, ensemble=False
        )
        self.model.fit(x, y, sample_weight=sample_weight)
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, x: Any) -> Any:
        return self.model.predict_proba(x)


class KnnBlend:
    """EXPERIMENT: the averaged SGD over every block, blended with a k-nearest-neighbours
    vote over the e5 block (the last 384 columns): p = (1 - share) * sgd + share * knn."""

    def __init__(self, share: float = 0.3, k: int = 15) -> None:
        self.share = share
        self.k = k

    def fit(self, x: Any, y: Any, sample_weight: Any = None) -> KnnBlend:
        from sklearn.neighbors import KNeighborsClassifier

        self.sgd = intents.AveragedSGD(alpha=5e-6, seeds=3).fit(x, y, sample_weight)
        self.knn = KNeighborsClassifier(n_neighbors=self.k, metric="cosine", weights="distance")
        self.knn.fit(x[:, -384:].toarray(), y)
        self.classes_ = self.sgd.classes_
        return self

    def predict_proba(self, x: Any) -> Any:
        near = self.knn.predict_proba(x[:, -384:].toarray())
        return (1 - self.share) * self.sgd.predict_proba(x) + self.share * near


# --- feature blocks: name -> factory of an unfitted vectorizer -------------------------------


def _tfidf(**kwargs: Any) -> Callable[[], Any]:
    def make() -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(sublinear_tf=True, **kwargs)

    return make


def jieba_words(text: str) -> list[str]:
    """The shipped model's jieba block (nlu/segment.py) on a prepared text, whose Chinese and
    Japanese characters prepare() spaced out."""
    return segment.cjk_words(text.replace(" ", ""))


def _cjk(low: int, high: int) -> Callable[[], Any]:
    return _tfidf(analyzer=functools.partial(cjk_ngrams, low=low, high=high))


WORD_PATTERN = r"(?u)\b\w\w+\b|" + CJK
BLOCKS: dict[str, Callable[[], Any]] = {
    "charwb25": _tfidf(analyzer="char_wb", ngram_range=(2, 5)),  # shipped (base model)
    "charwb25m2": _tfidf(analyzer="char_wb", ngram_range=(2, 5), min_df=2),
    "charwb25b": _tfidf(analyzer="char_wb", ngram_range=(2, 5), binary=True),
    "charwb15": _tfidf(analyzer="char_wb", ngram_range=(1, 5)),
    "charwb26": _tfidf(analyzer="char_wb", ngram_range=(2, 6)),
    "charwb16": _tfidf(analyzer="char_wb", ngram_range=(1, 6)),
    "charwb14": _tfidf(analyzer="char_wb", ngram_range=(1, 4)),
    "char25": _tfidf(analyzer="char", ngram_range=(2, 5)),
    "words12": _tfidf(analyzer="word", ngram_range=(1, 2), token_pattern=WORD_PATTERN),
    "words13": _tfidf(analyzer="word", ngram_range=(1, 3), token_pattern=WORD_PATTERN),
    "cjk13": _cjk(1, 3),
    "jieba": _tfidf(analyzer=jieba_words),
    "cjk24": _cjk(2, 4),
    "cjk34": _cjk(3, 4),
}


def e5_vectors(texts: list[str]) -> np.ndarray:
    """multilingual-e5-small query vectors of the raw texts (the shipped ones, nlu/embedded.py)."""
    return embedded.E5Features().transform(texts).toarray()


# --- classifiers -----------------------------------------------------------------------------


def sgd(**kwargs: Any) -> Callable[[], Any]:
    def make() -> Any:
        from sklearn.linear_model import SGDClassifier

        settings: dict[str, Any] = {
            "loss": "log_loss",
            "alpha": 1e-5,
            "max_iter": 50,
            "tol": 1e-4,
            "random_state": 0,
        }
        settings.update(kwargs)
        return SGDClassifier(**settings)

    return make


def bag(seeds: int = 3, alpha: float = 1e-5) -> Callable[[], Any]:
    """SGD fitted with `seeds` shuffles, the weights averaged (intents.AveragedSGD)."""
    return lambda: intents.AveragedSGD(alpha=alpha, seeds=seeds)


def logreg(c: float = 20.0) -> Callable[[], Any]:
    def make() -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=c, max_iter=300)

    return make


@dataclass(frozen=True)
class Variant:
    blocks: tuple[str, ...] = ("charwb25", "words12")
    classifier: Callable[[], Any] = field(default_factory=lambda: sgd())
    prepare: str = "base"  # "base": intents.prepare; "arabic": prepare_arabic
    background_weight: float = intents.BACKGROUND_WEIGHT
    folder_weight: float = 1.0  # weight of the examples of the languages the folders add
    class_weight: bool = False  # balance the labels (background still at its weight)
    block_weights: tuple[float, ...] = ()  # a factor per block (default: 1 each)
    pipeline: bool = False  # intents.build_pipeline(full=True), the rest of the fields unused


SHIPPED = Variant()
B3 = bag(3, alpha=5e-6)
# name -> variant; what each changes from the shipped (before) model. "full": the model
# intents.build_pipeline(full=True) builds, fitted as the app fits it (must match wb15+e5).
VARIANTS: dict[str, Variant] = {
    "shipped": SHIPPED,
    "full": Variant(pipeline=True),
    # the SGD: another shuffling seed (the noise floor), averaging, iterations, regularisation
    "seed1": Variant(classifier=sgd(random_state=1)),
    "seed2": Variant(classifier=sgd(random_state=2)),
    "average": Variant(classifier=sgd(average=True)),
    "avg-a2e-6": Variant(classifier=sgd(average=True, alpha=2e-6, max_iter=200)),
    "iter200": Variant(classifier=sgd(max_iter=200)),
    "a5e-6": Variant(classifier=sgd(alpha=5e-6)),
    "a2e-5": Variant(classifier=sgd(alpha=2e-5, max_iter=200)),
    "a5e-5": Variant(classifier=sgd(alpha=5e-5, max_iter=200)),
    "bag3": Variant(classifier=bag(3)),
    "bag3-a5e-6": Variant(classifier=B3),
    "bag3-a3e-6": Variant(classifier=bag(3, alpha=3e-6)),
    "bag5-a5e-6": Variant(classifier=bag(5, alpha=5e-6)),
    # weighting: classes balanced, the background class, the folder languages' examples
    "balanced": Variant(class_weight=True),
    "bg0.3": Variant(background_weight=0.3),
    "bg0.7": Variant(background_weight=0.7),
    "folder2": Variant(folder_weight=2.0),
    "folder3": Variant(folder_weight=3.0),
    # features
    "charwb15": Variant(blocks=("charwb15", "words12")),
    "charwb26": Variant(blocks=("charwb26", "words12")),
    "char25": Variant(blocks=("char25", "words12")),
    "words13": Variant(blocks=("charwb25", "words13")),
    "words0.7": Variant(block_weights=(1.0, 0.7)),
    "words1.4": Variant(block_weights=(1.0, 1.4)),
    "min_df2": Variant(blocks=("charwb25m2", "words12")),
    "binary": Variant(blocks=("charwb25b", "words12")),
    "+cjk13": Variant(blocks=("charwb25", "words12", "cjk13")),
    "+cjk24": Variant(blocks=("charwb25", "words12", "cjk24")),
    "+cjk34": Variant(blocks=("charwb25", "words12", "cjk34")),
    "ar-norm": Variant(prepare="arabic"),
    # other classifiers
    "svc-platt": Variant(classifier=lambda: PlattSVC(c=0.5)),
    "logreg": Variant(classifier=logreg()),
    # combinations around the best
    "b3a5e-6+f2": Variant(classifier=B3, folder_weight=2.0),
    "b3a5e-6+cjk13": Variant(blocks=("charwb25", "words12", "cjk13"), classifier=B3),
    "b3a5e-6+wb15": Variant(blocks=("charwb15", "words12"), classifier=B3),
    "b3a5e-6+wb14": Variant(blocks=("charwb14", "words12"), classifier=B3),
    "b3a5e-6+wb16": Variant(blocks=("charwb16", "words12"), classifier=B3),
    "b3a5e-6+wb15+ar": Variant(blocks=("charwb15", "words12"), classifier=B3, prepare="arabic"),
    "b3a5e-6+wb15+w13": Variant(blocks=("charwb15", "words13"), classifier=B3),
    "e5": Variant(blocks=("e5",), classifier=B3),
    "wb15+e5": Variant(blocks=("charwb15", "words12", "e5"), classifier=B3),
    "wb15+e5-a1e-5": Variant(blocks=("charwb15", "words12", "e5"), classifier=bag(3, alpha=1e-5)),
    "wb15+e5-a2e-6": Variant(blocks=("charwb15", "words12", "e5"), classifier=bag(3, alpha=2e-6)),
    "wb15+e5-b5": Variant(blocks=("charwb15", "words12", "e5"), classifier=bag(5, alpha=5e-6)),
    "wb15+e5-bg.35": Variant(
        blocks=("charwb15", "words12", "e5"), classifier=B3, background_weight=0.35
    ),
    "wb15+e5-bg.7": Variant(
        blocks=("charwb15", "words12", "e5"), classifier=B3, background_weight=0.7
    ),
    "wb15+e5x1.5": Variant(
        blocks=("charwb15", "words12", "e5"), classifier=B3, block_weights=(1.0, 1.0, 1.5)
    ),
    "wb15+e5+jieba": Variant(blocks=("charwb15", "words12", "e5", "jieba"), classifier=B3),
    "wb15+e5+knn.2": Variant(
        blocks=("charwb15", "words12", "jieba", "e5"), classifier=lambda: KnnBlend(0.2)
    ),
    "wb15+e5+knn.4": Variant(
        blocks=("charwb15", "words12", "jieba", "e5"), classifier=lambda: KnnBlend(0.4)
    ),
    "wb15+jieba+e5": Variant(blocks=("charwb15", "words12", "jieba", "e5"), classifier=B3),
    "wb15+e5x2": Variant(
        blocks=("charwb15", "words12", "e5"), classifier=B3, block_weights=(1.0, 1.0, 2.0)
    ),
    "wb15+e5x3": Variant(
        blocks=("charwb15", "words12", "e5"), classifier=B3, block_weights=(1.0, 1.0, 3.0)
    ),
    "b3a5e-6+wb15+bg.6": Variant(
        blocks=("charwb15", "words12"), classifier=B3, background_weight=0.6
    ),
}
SLOW = {"logreg", "svc-platt"}  # 70 s and 9 s a fit: only when named


# --- cross-validation ------------------------------------------------------------------------


class Folds:
    """The folds, and each fold's fitted feature blocks (shared by the variants)."""

    def __init__(self, folds: int = FOLDS, seed: int = 0) -> None:
        from sklearn.model_selection import StratifiedKFold

        self.examples = read_examples()
        self.labels = np.array(self.examples.labels)
        self.languages = np.array(self.examples.languages)
        self.texts = {
            "base": [intents.prepare(t) for t in self.examples.texts],
            "arabic": [prepare_arabic(t) for t in self.examples.texts],
        }
        strata = [f"{la}|{lb}" for la, lb in zip(self.languages, self.labels, strict=True)]
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        self.splits = list(splitter.split(strata, strata))
        self._blocks: dict[tuple[int, str, str], tuple[Any, Any]] = {}

    def block(self, fold: int, prepare: str, name: str) -> tuple[Any, Any]:
        key = (fold, prepare, name)
        if key not in self._blocks and name.startswith("e5"):
            train, test = self.splits[fold]
            dense = sp.csr_matrix(e5_vectors(self.examples.texts))
            self._blocks[key] = (dense[train], dense[test])
        if key not in self._blocks:
            train, test = self.splits[fold]
            texts = self.texts[prepare]
            vectorizer = BLOCKS[name]()
            x_train = vectorizer.fit_transform([texts[i] for i in train])
            self._blocks[key] = (x_train, vectorizer.transform([texts[i] for i in test]))
        return self._blocks[key]

    def weights(self, variant: Variant, rows: np.ndarray) -> np.ndarray:
        labels, languages = self.labels[rows], self.languages[rows]
        w = np.where(labels == REJECTED, variant.background_weight, 1.0)
        w = w * np.where(np.isin(languages, LANGS), variant.folder_weight, 1.0)
        if variant.class_weight:
            classes, counts = np.unique(labels, return_counts=True)
            per = dict(zip(classes, len(labels) / (len(classes) * counts), strict=True))
            w = w * np.array([per[lb] for lb in labels])
        return w

    def predict(self, variant: Variant) -> tuple[list[Prediction], float]:
        out: list[Prediction | None] = [None] * len(self.labels)
        seconds = 0.0
        for fold, (train, test) in enumerate(self.splits):
            if variant.pipeline:
                texts = intents.model_inputs(self.examples.texts, full=True)
                start = time.perf_counter()
                pipeline = intents.fit(
                    intents.build_pipeline(full=True),
                    [texts[i] for i in train],
                    list(self.labels[train]),
                )
                seconds += time.perf_counter() - start
                self._record(
                    out, test, pipeline.classes_, pipeline.predict_proba([texts[i] for i in test])
                )
                continue
            parts = [self.block(fold, variant.prepare, name) for name in variant.blocks]
            factors = variant.block_weights or (1.0,) * len(parts)
            x_train = sp.hstack(
                [p[0] * f for p, f in zip(parts, factors, strict=True)], format="csr"
            )
            x_test = sp.hstack(
                [p[1] * f for p, f in zip(parts, factors, strict=True)], format="csr"
            )
            clf = variant.classifier()
            start = time.perf_counter()
            clf.fit(x_train, self.labels[train], sample_weight=self.weights(variant, train))
            seconds += time.perf_counter() - start
            self._record(out, test, clf.classes_, clf.predict_proba(x_test))
        return [p for p in out if p is not None], seconds / len(self.splits)

    def _record(
        self, out: list[Prediction | None], test: np.ndarray, classes: Any, probs: Any
    ) -> None:
        for i, row in zip(test, probs, strict=True):
            best = int(row.argmax())
            out[i] = Prediction(
                str(self.languages[i]), str(self.labels[i]), str(classes[best]), float(row[best])
            )


def score(predictions: list[Prediction]) -> dict[str, tuple[float, float]]:
    """Per folder language: (accuracy, macro-F1) at the language's calibrated threshold."""
    from sklearn.metrics import f1_score

    table = curve([p for p in predictions if p.language in LANGS])
    result = {}
    for lang in LANGS:
        threshold = choose(table[lang], MAX_FALSE_REJECTION)
        preds = [p for p in predictions if p.language == lang]
        said = [outcome(p, threshold) for p in preds]
        truth = [p.label for p in preds]
        accuracy = statistics.mean(s == t for s, t in zip(said, truth, strict=True))
        result[lang] = (accuracy, float(f1_score(truth, said, average="macro")))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "variants",
        nargs="*",
        help=f"default: all but {', '.join(sorted(SLOW))}: {', '.join(VARIANTS)}",
    )
    parser.add_argument("--repeats", type=int, default=3, help="fold splits (seeds 0..n-1)")
    args = parser.parse_args()
    names = args.variants or [name for name in VARIANTS if name not in SLOW]
    results: dict[str, list[dict[str, tuple[float, float]]]] = {name: [] for name in names}
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(args.repeats):
        folds = Folds(seed=repeat)
        for name in names:
            predictions, fit_seconds = folds.predict(VARIANTS[name])
            results[name].append(score(predictions))
            seconds[name].append(fit_seconds)
            mean = statistics.mean(results[name][-1][lang][0] for lang in LANGS)
            sys.stderr.write(f"split {repeat} {name:<14} mean accuracy {mean:.2%}\n")
    head = f"{'variant':<18}" + "".join(f"{lang:>7}" for lang in LANGS)
    sys.stdout.write(
        f"{FOLDS}-fold CV x {args.repeats} split(s) on {len(folds.labels)} training examples "
        "(all languages); per folder language: accuracy % incl. out_of_scope at the "
        "recalibrated threshold, then macro-F1 %; fit s = one fold's fit\n"
        f"{head}{'mean':>7}{'min':>7}   macro-F1:{'':<2}"
        + "".join(f"{lang:>5}" for lang in LANGS)
        + f"{'mean':>6}{'fit s':>7}\n"
    )
    for name in names:
        acc = [statistics.mean(r[lang][0] for r in results[name]) * 100 for lang in LANGS]
        f1 = [statistics.mean(r[lang][1] for r in results[name]) * 100 for lang in LANGS]
        sys.stdout.write(
            f"{name:<18}"
            + "".join(f"{a:7.1f}" for a in acc)
            + f"{statistics.mean(acc):7.1f}{min(acc):7.1f}   {'':<11}"
            + "".join(f"{f:5.1f}" for f in f1)
            + f"{statistics.mean(f1):6.1f}{statistics.mean(seconds[name]):7.1f}\n"
        )


if __name__ == "__main__":
    main()
