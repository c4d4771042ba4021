"""Intent classification: TF-IDF over character and word n-grams + a logistic-loss linear model.

Trained on the multilingual examples in nlu/data/ (plus a brand's own examples, if it ships
some): intents_train.json and intents_real.json ({intent: {lang: [...]}}), and background.json
({lang: [...]}), a broad set of everyday requests a shop does not handle, as out_of_scope.
Training takes a few seconds, so the fitted model is cached in the data dir, keyed by a hash of
the examples and the scikit-learn version.

Rejection: an in-scope intent whose probability is below its language's threshold is read as
out_of_scope. The thresholds are calibrated on cross-validated predictions over the training
data (nlu/calibration.py, `python -m supportgraph.nlu.calibration`) and kept in
nlu/data/rejection.json with the hash of the data they were calibrated on.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supportgraph.domain.intents import INTENT_NAMES
from supportgraph.domain.text import UNSPACED, normalize
from supportgraph.languages import files as languages_files
from supportgraph.languages import read as read_language_file
from supportgraph.nlu.linear import LinearReader
from supportgraph.nlu.model_cache import cache_key, cached_fit

INTENTS = INTENT_NAMES  # the labels: the intent catalogue (domain/intents.py)
DATA_DIR = Path(__file__).parent / "data"
TRAIN_FILE = DATA_DIR / "intents_train.json"
# Examples in the shape of intents_train.json, read after it (absent files are skipped).
TRAIN_FILES = (TRAIN_FILE, DATA_DIR / "intents_real.json", DATA_DIR / "intents_more.json")
BACKGROUND_FILE = DATA_DIR / "background.json"  # {lang: [...]}: out_of_scope
REJECTION_FILE = DATA_DIR / "rejection.json"
REJECTED = "out_of_scope"
# The background set is large and varied on purpose (hundreds of everyday requests per
# language); at full weight its one class pulls short in-scope messages over. Half weight,
# with the calibrated threshold, rejected as much off-topic traffic on the development set
# (nlu/data/dev_sets.json) and kept more in-scope messages.
BACKGROUND_WEIGHT = 0.5

_PLACEHOLDERS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), " zzemail "),
    (re.compile(r"#?\b[a-z]{1,4}-?\d{4,10}\b"), " zzorder "),
    (re.compile(r"\d+"), " 0 "),
]


# Chinese and Japanese are written without spaces: each of their characters becomes a token,
# so the word features see characters and character pairs (the words of these languages are
# mostly one or two characters long). nlu/text.py says which characters those are (its
# half-width kana never reach here: normalize() makes them full-width).
_UNSPACED = re.compile(f"([{UNSPACED}])")


def prepare(text: str) -> str:
    """The form the classifier sees: ids and numbers become placeholders (they carry no
    intent), and characters of unspaced scripts are spaced out."""
    out = _UNSPACED.sub(r" \1 ", normalize(text))  # first: "单SG-10234" has an id too
    for pattern, repl in _PLACEHOLDERS:
        out = pattern.sub(repl, out)
    return " ".join(out.split())


@dataclass(frozen=True)
class IntentGuess:
    intent: str
    confidence: float
    uncertainty: float
    ranking: list[tuple[str, float]]


@dataclass(frozen=True)
class Examples:
    texts: list[str]
    labels: list[str]
    languages: list[str]


def read_examples(extra_files: list[Path] | None = None, *, folders: bool = True) -> Examples:
    """Every training example with its intent and language (`folders=False`: the base corpus
    of nlu/data and the brand's files only, without the language folders)."""
    texts: list[str] = []
    labels: list[str] = []
    languages: list[str] = []
    for path in [*TRAIN_FILES, *(extra_files or [])]:
        if not path.exists() and path in TRAIN_FILES:
            continue
        data: dict[str, dict[str, list[str]]] = json.loads(path.read_text(encoding="utf-8"))
        for intent, by_lang in data.items():
            if intent not in INTENTS:
                raise ValueError(f"{path}: unknown intent {intent!r}; known: {INTENTS}")
            for lang, examples in by_lang.items():
                texts.extend(examples)
                labels.extend([intent] * len(examples))
                languages.extend([lang] * len(examples))
    for lang, path in languages_files("intents.json") if folders else []:
        for intent, examples in read_language_file(path).items():
            if intent not in INTENTS:
                raise ValueError(f"{path}: unknown intent {intent!r}; known: {INTENTS}")
            texts.extend(examples)
            labels.extend([intent] * len(examples))
            languages.extend([lang] * len(examples))
    background: dict[str, list[str]] = {}
    if BACKGROUND_FILE.exists():
        background = json.loads(BACKGROUND_FILE.read_text(encoding="utf-8"))
    for lang, path in languages_files("background.json") if folders else []:
        background.setdefault(lang, []).extend(read_language_file(path))
    for lang, examples in background.items():
        texts.extend(examples)
        labels.extend([REJECTED] * len(examples))
        languages.extend([lang] * len(examples))
    return Examples(texts, labels, languages)


def load_examples(extra_files: list[Path] | None = None) -> tuple[list[str], list[str]]:
    examples = read_examples(extra_files)
    return examples.texts, examples.labels


def training_files(folders: bool = True) -> list[Path]:
    """Every bundled file the classifier learns from (`folders`: language folders included)."""
    added = [
        path
        for name in ("intents.json", "background.json")
        for _, path in (languages_files(name) if folders else [])
    ]
    return [p for p in [*TRAIN_FILES, BACKGROUND_FILE] if p.exists()] + added


def data_hash(folders: bool = True) -> str:
    """What the rejection thresholds were calibrated on: the bundled training files."""
    digest = hashlib.sha256()
    for path in training_files(folders):
        name = f"{path.parent.name}/{path.name}" if path.parent != DATA_DIR else path.name
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Rejection:
    """Per-language minimum probability of an in-scope intent (below it: out_of_scope)."""

    thresholds: dict[str, float]
    default: float = 0.0

    def threshold(self, language: str | None) -> float:
        return self.thresholds.get(language or "", self.default)

    @classmethod
    def load(cls, path: Path = REJECTION_FILE) -> Rejection:
        if not path.exists():
            return cls({})
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls({k: float(v) for k, v in data["thresholds"].items()}, float(data["default"]))


def sample_weights(labels: list[str]) -> list[float]:
    return [BACKGROUND_WEIGHT if label == REJECTED else 1.0 for label in labels]


def fit(pipeline: Any, texts: list[str], labels: list[str]) -> Any:
    """Fit on prepared texts, the background class at its weight."""
    pipeline.fit(texts, labels, clf__sample_weight=sample_weights(labels))
    return pipeline


FIT_JOBS = 2


class AveragedSGD:
    """Logistic-loss SGD fitted with several shuffling seeds, the weights averaged: one linear
    model (what LinearReader reads, as SGDClassifier's coef_/intercept_/classes_) that
    depends less on the luck of one shuffle. Probabilities as SGDClassifier gives them:
    one-vs-rest, normalised."""

    def __init__(self, alpha: float = 5e-6, seeds: int = 3, max_iter: int = 50) -> None:
        self.alpha = alpha
        self.seeds = seeds
        self.max_iter = max_iter

    def fit(self, x: Any, y: Any, sample_weight: Any = None) -> AveragedSGD:
        import numpy as np
        from sklearn.linear_model import SGDClassifier

        fits = [
            SGDClassifier(
                loss="log_loss",
                alpha=self.alpha,
                max_iter=self.max_iter,
                tol=1e-4,
                random_state=s,
                n_jobs=FIT_JOBS,  # the intents' one-vs-rest fits side by side: same weights
            ).fit(x, y, sample_weight=sample_weight)
            for s in range(self.seeds)
        ]
        self.coef_ = np.mean([f.coef_ for f in fits], axis=0)
        self.intercept_ = np.mean([f.intercept_ for f in fits], axis=0)
        self.classes_ = fits[0].classes_
        return self

    # What scikit-learn's Pipeline asks of its last step (imported here: importing this module
    # stays free of scikit-learn).
    def __sklearn_tags__(self) -> Any:
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier().__sklearn_tags__()

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "coef_")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"alpha": self.alpha, "seeds": self.seeds, "max_iter": self.max_iter}

    def decision_function(self, x: Any) -> Any:
        return x @ self.coef_.T + self.intercept_

    def predict_proba(self, x: Any) -> Any:
        from scipy.special import expit

        scores = expit(self.decision_function(x))
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, x: Any) -> Any:
        return self.classes_[self.decision_function(x).argmax(axis=1)]


# The full model (the languages the folders add) was chosen by 5-fold cross-validation on the
# training examples (bench/intent_model_cv.py): single characters as features too (Arabic and
# CJK letters that are words or clitics), a lighter regularisation and three shuffles averaged
# (82.6% -> 83.0% mean accuracy over it/pt/zh/ja/ar/nl), then e5 sentence vectors as a third
# block of features (nlu/embedded.py: 83.0% -> 87.7%, every language ahead), and Chinese and
# Japanese runs cut into words by jieba (nlu/segment.py: Chinese 89.4% -> 89.9%). LogisticRegression,
# a calibrated LinearSVC, class balancing, other background weights, folder-language weights,
# CJK character trigrams, an Arabic letter-form folding and e5 at 2x or 3x weight did not do
# better. The full model reads the raw message (e5 needs it whole); its n-gram blocks prepare()
# it themselves.
FULL_CHAR_NGRAMS = (1, 5)
FULL_ALPHA = 5e-6
FULL_SEEDS = 3
FULL_VERSION = ("v7-full-e5-jieba", FULL_CHAR_NGRAMS, FULL_ALPHA, FULL_SEEDS)


def model_inputs(texts: list[str], full: bool = False) -> list[str]:
    """What each model is fitted on and reads: the base model prepared texts, the full model
    the texts as written."""
    return list(texts) if full else [prepare(t) for t in texts]


def build_pipeline(full: bool = False) -> Any:
    """The base model's pipeline (also the fraud model's); `full`: the full model's."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline

    from supportgraph.nlu.embedded import E5Features

    # The full model's input is the raw text: its n-gram blocks prepare it (prepare() lowers
    # case and strips accents, as the default preprocessing would).
    preprocessor = prepare if full else None
    blocks: list[tuple[str, Any]] = [
        (
            "chars",
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=FULL_CHAR_NGRAMS if full else (2, 5),
                sublinear_tf=True,
                min_df=1,
                preprocessor=preprocessor,
            ),
        ),
        (
            "words",
            # A Chinese or Japanese character is a word of its own; elsewhere words have two
            # letters or more (a lone "0", the number placeholder, says nothing).
            TfidfVectorizer(
                analyzer="word",
                ngram_range=(1, 2),
                sublinear_tf=True,
                token_pattern=r"(?u)\b\w\w+\b|" + _UNSPACED.pattern.strip("()"),
                preprocessor=preprocessor,
            ),
        ),
    ]
    # Logistic loss gives probabilities (confidence); SGD fits in <1 s where lbfgs took ~10 s
    # for the same accuracy on our test set (bench/nlu_compare.py).
    if full:
        from supportgraph.nlu.segment import cjk_words

        words = TfidfVectorizer(analyzer=cjk_words, sublinear_tf=True)
        return Pipeline(
            [
                ("features", FeatureUnion([*blocks, ("cjk_words", words), ("e5", E5Features())])),
                ("clf", AveragedSGD(alpha=FULL_ALPHA, seeds=FULL_SEEDS)),
            ]
        )
    classifier = SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=50, tol=1e-4, random_state=0)
    return Pipeline([("features", FeatureUnion(blocks)), ("clf", classifier)])


class IntentClassifier:
    """Two readers: the base model, trained on the base corpus (nlu/data: en, es, fr, de) and
    the brand's examples, reads the base languages; the full model, trained on that and every
    language folder, reads the languages the folders add. So adding a language never moves how
    the base languages are read (a stochastic linear fit shifts every reading when its data
    grows: a German cancellation and an English default-address change did), and a new
    language is read by a model that also saw every other language."""

    def __init__(
        self,
        pipeline: Any,
        rejection: Rejection | None = None,
        folders: Any | None = None,
        base_languages: frozenset[str] = frozenset(),
    ) -> None:
        """`folders`: the fitted full model, or a function that reads or fits it when a
        language it reads first comes (a fresh data dir then fits it only if needed: ~12 s)."""
        self.pipeline = pipeline
        self.labels: list[str] = list(pipeline.classes_)
        self.reader = LinearReader(pipeline)
        self._full = folders
        self._full_reader: LinearReader | None = None
        self._full_lock = threading.Lock()
        self.base_languages = base_languages
        self.rejection = rejection if rejection is not None else Rejection.load()

    @property
    def folders(self) -> LinearReader | None:
        """The full model's reader (read or fitted on first use), None without one."""
        if self._full is None:
            return None
        with self._full_lock:
            if self._full_reader is None:
                fitted = self._full if hasattr(self._full, "classes_") else self._full()
                if list(fitted.classes_) != self.labels:
                    raise ValueError(
                        "the base and the full intent models must know the same intents"
                    )
                self._full_reader = LinearReader(fitted)
            return self._full_reader

    @classmethod
    def train(cls, texts: list[str], labels: list[str]) -> IntentClassifier:
        return cls(fit(build_pipeline(), model_inputs(texts), labels))

    @classmethod
    def load_or_train(
        cls, cache_dir: Path | None, extra_files: list[Path] | None = None
    ) -> IntentClassifier:
        # The fitted model is read-only: processes that open many agents (evals, tests)
        # share one instance per cache dir instead of unpickling it again each time.
        return _load_cached(cache_dir.resolve() if cache_dir else None, tuple(extra_files or ()))

    @classmethod
    def _load_or_train(
        cls, cache_dir: Path | None, extra_files: list[Path] | None = None
    ) -> IntentClassifier:
        def trained(name: str, examples: Examples, full: bool = False) -> Any:
            version = FULL_VERSION if full else "v4"
            key = cache_key(examples.texts, examples.labels, BACKGROUND_WEIGHT, version)
            return cached_fit(
                cache_dir,
                name,
                key,
                lambda: fit(
                    build_pipeline(full), model_inputs(examples.texts, full), examples.labels
                ),
            )

        base = read_examples(extra_files, folders=False)
        full = read_examples(extra_files)
        folders = (
            functools.partial(trained, "intent-model-all", full, full=True)
            if len(full.texts) > len(base.texts)
            else None
        )
        return cls(trained("intent-model", base), None, folders, frozenset(base.languages))

    def reader_for(self, language: str | None) -> LinearReader:
        if self._full is None or language in self.base_languages:
            return self.reader
        return self.folders or self.reader

    def classify(self, text: str, language: str | None = None) -> IntentGuess:
        """The intent of `text`; an in-scope guess below the language's rejection threshold
        comes back as out_of_scope, with the ranking kept (the model's runner-up reading).
        In the full model's languages a greeting that opens a request has the request's intent
        ("مرحبا، أين طلبي؟")."""
        guess = self._classify(text, language)
        # Only the full model: the base model learned "greeting, then request" from its
        # examples, and its readings stay as they were.
        if guess.intent != GREETING or self.reader_for(language) is self.reader:
            return guess
        head, rest = _opening(text)
        if not rest or self._classify(head, language).intent != GREETING:
            return guess
        request = self._classify(rest, language)
        return request if request.intent not in (GREETING, REJECTED) else guess

    def _classify(self, text: str, language: str | None) -> IntentGuess:
        reader = self.reader_for(language)
        probs = reader.probabilities(prepare(text) if reader is self.reader else text)
        ranking = sorted(zip(self.labels, probs, strict=True), key=lambda p: -p[1])
        top, p1 = ranking[0]
        if top != REJECTED and p1 < self.rejection.threshold(language):
            top = REJECTED
        p2 = ranking[1][1] if len(ranking) > 1 else 0.0
        # Uncertainty mixes low top probability with a small margin to the runner-up, so a
        # 0.45 vs 0.40 split is visibly uncertain even though 0.45 is the max of 14 classes.
        margin = p1 - p2
        uncertainty = max(0.0, min(1.0, 1.0 - (0.5 * p1 + 0.5 * margin) * 1.6))
        return IntentGuess(
            str(top),
            float(p1),
            round(float(uncertainty), 3),
            [(str(a), float(b)) for a, b in ranking],
        )


GREETING = "greeting"
# Where an opening greeting ends: the first comma, stop or exclamation, in any script.
_OPENING_END = re.compile(r"[,،、，!！.。;；]+\s*")


def _opening(text: str) -> tuple[str, str]:
    """The message's first clause and the rest ("مرحبا" and "أين طلبي؟"); no rest when the
    message is one clause. (A model that learned greetings from e5 vectors reads a short
    message that starts with one as a greeting, whatever follows; the n-grams alone did not.)"""
    stripped = text.strip()
    end = _OPENING_END.search(stripped)
    if end is None:
        return stripped, ""
    return stripped[: end.start()], stripped[end.end() :].strip()


@functools.lru_cache(maxsize=4)
def _load_cached(cache_dir: Path | None, extra_files: tuple[Path, ...]) -> IntentClassifier:
    return IntentClassifier._load_or_train(cache_dir, list(extra_files))
