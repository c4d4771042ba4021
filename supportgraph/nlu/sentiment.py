"""Sentiment in -1..1 from per-language lexicons (vocab/<lang>.yaml, section `sentiment`).

No offline multilingual sentiment model ships in a pip package (see shared/research), and
English-only VADER scores Spanish or German complaints as neutral. A lexicon with negation,
intensifiers, shouting and repeated punctuation is small, fast and explainable.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from supportgraph.domain.text import UNSPACED_RE, normalize
from supportgraph.nlu.vocab import Vocabulary, load_vocab


@dataclass(frozen=True)
class SentimentWords:
    lexicons: dict[str, dict[str, float]]  # per language: word or phrase -> valence in -3..3
    all_words: dict[str, float]  # every language's words, for a message in any language
    negators: frozenset[str]
    intensifiers: dict[str, float]
    known: frozenset[str]  # every single word above: how Chinese and Japanese text is cut

    @classmethod
    def from_vocab(cls, vocab: Vocabulary) -> SentimentWords:
        lexicons = {
            code: {normalize(w): float(v) for w, v in table.items()}
            for code, table in vocab.by_language("sentiment", "valence").items()
        }
        all_words: dict[str, float] = {}
        for table in lexicons.values():  # rank order: a word two languages share keeps the first
            for word, value in table.items():
                all_words.setdefault(word, value)
        negators = frozenset(vocab.words("sentiment", "negators"))
        intensifiers = {w: float(v) for w, v in vocab.pairs("sentiment", "intensifiers").items()}
        return cls(
            lexicons=lexicons,
            all_words=all_words,
            negators=negators,
            intensifiers=intensifiers,
            known=frozenset(w for w in [*all_words, *negators, *intensifiers] if " " not in w),
        )


@functools.lru_cache(maxsize=8)
def words_for(vocab: Vocabulary | None = None) -> SentimentWords:
    return SentimentWords.from_vocab(vocab or load_vocab())


TOKEN_RE = re.compile(r"[\w']+")


def _cut(token: str, known: frozenset[str]) -> list[str]:
    """A run of Chinese or Japanese (no spaces) cut into the lexicon's words, longest first
    ("对服务很失望" -> 对, 服, 务, 很, 失望), so a word is scored where it stands."""
    if not UNSPACED_RE.search(token):
        return [token]
    pieces: list[str] = []
    i = 0
    while i < len(token):
        n = next(
            (
                n
                for n in range(min(LONGEST_WORD, len(token) - i), 1, -1)
                if token[i : i + n] in known
            ),
            1,
        )
        pieces.append(token[i : i + n])
        i += n
    return pieces


LONGEST_WORD = 8


def score_sentiment(
    text: str, language: str | None = None, vocab: Vocabulary | None = None
) -> float:
    """-1 (very negative) .. 1 (very positive)."""
    lexicon = words_for(vocab)
    norm = normalize(text)
    tokens = [piece for token in TOKEN_RE.findall(norm) for piece in _cut(token, lexicon.known)]
    if not tokens:
        return 0.0
    table = dict(lexicon.all_words)
    if language in lexicon.lexicons:
        table.update(lexicon.lexicons[language])
    total = 0.0
    hits = 0
    joined = " " + " ".join(tokens) + " "
    for phrase, phrase_value in table.items():
        if " " in phrase and f" {phrase} " in joined:
            total += phrase_value
            hits += 1
    for i, tok in enumerate(tokens):
        value = table.get(tok)
        if value is None:
            for stem, v in table.items():
                if stem.endswith("*") and tok.startswith(stem[:-1]):
                    value = v
                    break
        if value is None:
            continue
        window = tokens[max(0, i - 3) : i]
        if any(w in lexicon.negators for w in window):
            value = -value * 0.6
        for w in tokens[max(0, i - 2) : i]:
            value *= lexicon.intensifiers.get(w, 1.0)
        total += value
        hits += 1
    if hits == 0:
        return 0.0
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    emphasis = 1.0 + 0.15 * min(text.count("!") + text.count("?") // 2, 4)
    if shouting:
        emphasis += 0.3
    total *= emphasis
    # Squash to -1..1 like VADER's normalisation, so one strong word gives about -0.65.
    return max(-1.0, min(1.0, total / (abs(total) ** 2 + 12) ** 0.5))
