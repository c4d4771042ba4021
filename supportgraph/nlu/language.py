"""Language detection: py3langid (model shipped in its wheel) plus rules for short messages.

Detectors are unreliable on one or two words ("hola" scores as English), so short messages
use a small lexicon of chat words and otherwise inherit the conversation's language. The
languages and their chat words are data: supportgraph/nlu/vocab/<lang>.yaml.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from supportgraph.domain.text import normalize
from supportgraph.nlu.model_cache import cache_key, cached_fit
from supportgraph.nlu.text import NOISE_RE, word_count, words
from supportgraph.nlu.vocab import FALLBACK_LANGUAGE, Vocabulary, load_vocab


def word_languages(vocab: Vocabulary, *lists: tuple[str, str]) -> dict[str, tuple[str, ...]]:
    """Words of some vocab lists -> the languages that list them, lower rank first."""
    lexicon: dict[str, list[str]] = {}
    for section, key in lists:
        for code, listed in vocab.by_language(section, key).items():
            if isinstance(listed, dict):  # a group list (colour -> its words): the words
                listed = [word for group in listed.values() for word in group]
            for word in listed:
                codes = lexicon.setdefault(normalize(word), [])
                if code not in codes:
                    codes.append(code)
    return {word: tuple(sorted(codes, key=vocab.codes.index)) for word, codes in lexicon.items()}


def short_lexicon(vocab: Vocabulary) -> dict[str, tuple[str, ...]]:
    """Short chat words -> the languages that list them (vocab `detection.short_words`), lower
    rank first: "super" is French before German, unless the conversation is in German."""
    return word_languages(vocab, ("detection", "short_words"))


def answer_lexicon(vocab: Vocabulary) -> dict[str, tuple[str, ...]]:
    """Yes and no words -> their languages: "sì" answers in Italian, "ja" in Dutch too. They
    only keep the conversation's language ("ok" is everyone's and switches to none)."""
    return word_languages(vocab, ("confirmation", "yes_words"), ("confirmation", "no_words"))


def shop_lexicon(vocab: Vocabulary) -> dict[str, tuple[str, ...]]:
    """The shop's own words -> their languages: product types and colours. "Avete stivali?"
    is too short for the detector, and "stivali" is Italian."""
    return word_languages(vocab, ("entities", "product_types"), ("entities", "colours"))


def marker_patterns(vocab: Vocabulary) -> dict[str, re.Pattern[str]]:
    """Language -> its markers (vocab `detection.markers`), matched on lower-case text with
    its accents: "ř" is Czech, "ø" is not Swedish."""
    return {
        code: re.compile("|".join(f"(?:{m})" for m in markers))
        for code, markers in vocab.by_language("detection", "markers").items()
        if markers
    }


# A close call between neighbours is settled by markers only among the detector's top few
# candidates, each with at least this probability.
MARKER_CANDIDATES = 3
MARKER_MIN_PROBABILITY = 0.02
# Below this probability, and this close to a served language of lower rank, the top guess is
# a toss-up (vocab `rank` orders the languages by how many customers write in them).
TOSS_UP = 0.5
TOSS_UP_MARGIN = 0.15


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    confidence: float
    method: str  # "model", "lexicon", "inherited", "default"


class LanguageDetector:
    """Detects the language of one message, aware of the conversation's language so far."""

    def __init__(
        self,
        languages: list[str] | None = None,
        default: str = FALLBACK_LANGUAGE,
        preferred: tuple[str, ...] | None = None,
        cache_dir: Path | None = None,
        vocab: Vocabulary | None = None,
    ) -> None:
        vocab = vocab or load_vocab()
        self.cache_dir = cache_dir
        # Languages the detector may answer: every language with a vocab file. Replies exist
        # for some of them (Settings.reply_languages); the others get a polite English reply
        # that says so.
        self.languages = languages or vocab.codes
        self.default = default
        # Languages with word lists: a two-word message the model is sure about counts only
        # in one of these (short ASCII text scores high in many languages).
        self.worded = tuple(vocab.reply_languages)
        # Languages the shop serves: a close call between Portuguese and Spanish on four
        # words goes to the language the customer most likely writes in.
        self.preferred = self.worded if preferred is None else preferred
        self.short_lexicon = short_lexicon(vocab)
        self.answer_lexicon = answer_lexicon(vocab)
        self.shop_lexicon = shop_lexicon(vocab)
        self.rank = {code: n for n, code in enumerate(vocab.codes)}
        self.markers = marker_patterns(vocab)

    @cached_property
    def _model(self) -> Any:
        return _identifier(
            tuple(self.languages), self.cache_dir.resolve() if self.cache_dir else None
        )

    def warm(self) -> None:
        _ = self._model

    def detect(self, text: str, previous: str | None = None) -> LanguageGuess:
        signal = " ".join(NOISE_RE.sub(" ", text).split())
        n_words = word_count(signal)
        if n_words == 0:
            return self._fallback(previous)
        if n_words <= 2:
            return self._short(signal, previous)
        # One ranking serves all three decisions (top guess, markers, close calls): each
        # call of the model is a full classification of the message.
        ranked = [(str(code), float(p)) for code, p in self._model.rank(signal)[:MARKER_CANDIDATES]]
        lang, prob = ranked[0]
        marked = self._by_markers(signal, ranked)
        if marked is not None:
            return marked
        if prob < 0.7:
            close = dict(ranked)
            chat = {code: n for code, n in self._votes(signal).items() if code in close}
            if chat:
                # "Hola, mi correo es ...": Spanish or Italian to the model, "hola" settles it.
                best = max(chat, key=lambda code: (chat[code], close[code]))
                return LanguageGuess(best, close[best], "lexicon")
            if previous and previous in close:
                # Weak evidence: keep the conversation's language when it is a candidate.
                return LanguageGuess(previous, close[previous], "inherited")
            if lang not in self.preferred:
                for candidate, p in close.items():
                    if candidate in self.preferred and prob - p < 0.4:
                        return LanguageGuess(candidate, p, "model")
            elif prob < TOSS_UP:
                # "Was kosten die Chelsea Boots?" is nearly as Dutch as German to the model:
                # a toss-up between served languages goes to the lower rank (more customers).
                for candidate in sorted(close, key=lambda code: self.rank.get(code, 10**6)):
                    if candidate in self.preferred and prob - close[candidate] < TOSS_UP_MARGIN:
                        return LanguageGuess(candidate, close[candidate], "model")
        return LanguageGuess(lang, prob, "model")

    def _by_markers(self, signal: str, ranked: list[tuple[str, float]]) -> LanguageGuess | None:
        """Danish or Norwegian, Croatian or Serbian, Indonesian or Malay: the detector's
        character n-grams barely tell neighbours apart; their own words do."""
        top = ranked[0][0]
        candidates = [
            (code, p) for code, p in ranked if p >= MARKER_MIN_PROBABILITY and code in self.markers
        ]
        if len(candidates) < 2:
            return None
        lower = signal.lower()
        votes = {code: len(self.markers[code].findall(lower)) for code, _ in candidates}
        best = max(candidates, key=lambda c: (votes[c[0]], c[0] == top))
        if best[0] != top and votes[best[0]] > votes.get(top, 0):
            return LanguageGuess(best[0], best[1], "markers")
        return None

    def _votes(
        self, signal: str, lexicon: dict[str, tuple[str, ...]] | None = None
    ) -> dict[str, int]:
        """Language -> how many of the message's words are its short chat words (or the words
        of `lexicon`), in rank order of first vote: a tie goes to the lower rank."""
        votes: dict[str, int] = {}
        for w in words(normalize(signal)):
            for lang in (lexicon or self.short_lexicon).get(w, ()):
                votes[lang] = votes.get(lang, 0) + 1
        return dict(sorted(votes.items(), key=lambda item: self.rank[item[0]]))

    def _short(self, signal: str, previous: str | None) -> LanguageGuess:
        votes = self._votes(signal)
        if votes and previous and previous not in votes:
            answers = sum(
                previous in self.answer_lexicon.get(w, ()) for w in words(normalize(signal))
            )
            if answers:
                votes[previous] = answers  # "Sì" after Italian: Spanish "si" only ties
        if votes:
            # max keeps the first of equals: the lower rank, unless the conversation's own.
            best = max(votes, key=lambda k: (votes[k], k == previous))
            return LanguageGuess(best, 0.8, "lexicon")
        if previous:
            return LanguageGuess(previous, 0.5, "inherited")
        lang, prob = self._model.classify(signal)
        if prob >= 0.9 and not signal.isascii():
            return LanguageGuess(str(lang), float(prob), "model")
        if prob >= 0.9 and str(lang) in self.worded:
            return LanguageGuess(str(lang), float(prob) * 0.6, "model")
        # Only on a first message: mid-conversation, "boots?" in a Spanish chat is a product
        # name, not a switch to English.
        shop = self._votes(signal, self.shop_lexicon)
        if shop:
            best = max(shop, key=lambda k: shop[k])
            return LanguageGuess(best, 0.6, "lexicon")
        return self._fallback(previous)

    def _fallback(self, previous: str | None) -> LanguageGuess:
        if previous:
            return LanguageGuess(previous, 0.5, "inherited")
        return LanguageGuess(self.default, 0.3, "default")


@functools.lru_cache(maxsize=4)
def _identifier(languages: tuple[str, ...], cache_dir: Path | None) -> Any:
    """The restricted py3langid model, shared by every detector of the process (read-only).

    The wheel's model is xz-compressed: decompressing costs ~1 s per process. The restricted
    model is cached uncompressed in the data dir (~0.1 s to load).
    """
    import py3langid
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    def build() -> Any:
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(list(languages))
        identifier._full_model = None  # only needed to change languages later
        return identifier

    key = cache_key(py3langid.__file__, sorted(languages), "v1")
    return cached_fit(cache_dir, "langid", key, build)
