"""Language detection: py3langid (model shipped in its wheel) plus rules for short messages.

Detectors are unreliable on one or two words ("hola" scores as English), so short messages
use a small lexicon of chat words and otherwise inherit the conversation's language.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from supportgraph.domain.text import normalize
from supportgraph.nlu.text import NOISE_RE, word_count, words

# Languages the detector may answer. Replies exist for some of them (Settings.reply_languages);
# the others get a polite English reply that says so.
DETECTABLE = ["en", "es", "fr", "de", "pt", "it", "nl", "ar", "zh", "ja", "ru", "pl", "tr"]

# Short chat words whose language is clear. Words shared by several languages ("no", "ok",
# "si", "ja"/"nein" aside) are left out on purpose: those inherit the conversation language.
SHORT_LEXICON: dict[str, str] = {}
for _lang, _ws in {
    "en": "hi hello hey thanks thank you yes yeah yep nope bye goodbye please cheers sure "
    "order where help what how why when refund return shipping cancel great good morning "
    "evening afternoon agent human sorry",
    "es": "hola gracias muchas buenas buenos dias tardes noches adios vale claro pedido "
    "ayuda donde cuando devolucion envio cancelar porfa favor si perfecto genial chao "
    "agente humano persona",
    "fr": "bonjour salut merci beaucoup oui ouais non d'accord daccord commande aide ou "
    "quand remboursement livraison annuler bonsoir revoir parfait super svp stp "
    "conseiller",
    "de": "hallo servus moin danke schon dankeschon ja nein genau tschuss bestellung hilfe "
    "wo wann wie ruckerstattung lieferung stornieren guten tag morgen abend bitte super "
    "mitarbeiter mensch",
    "pt": "ola obrigado obrigada tchau",
    "it": "ciao grazie buongiorno arrivederci",
    "nl": "hoi bedankt dankjewel doei",
}.items():
    for _w in _ws.split():
        SHORT_LEXICON.setdefault(_w, _lang)


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
        default: str = "en",
        preferred: tuple[str, ...] = ("en", "es", "fr", "de"),
        cache_dir: Path | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.languages = languages or DETECTABLE
        self.default = default
        # Languages the shop serves: a close call between Portuguese and Spanish on four
        # words goes to the language the customer most likely writes in.
        self.preferred = preferred

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
        lang, prob = self._model.classify(signal)
        if prob < 0.7:
            ranked = dict(self._model.rank(signal)[:3])
            if previous and previous in ranked:
                # Weak evidence: keep the conversation's language when it is a candidate.
                return LanguageGuess(previous, float(ranked[previous]), "inherited")
            if lang not in self.preferred:
                for candidate, p in ranked.items():
                    if candidate in self.preferred and prob - p < 0.4:
                        return LanguageGuess(str(candidate), float(p), "model")
        return LanguageGuess(str(lang), float(prob), "model")

    def _short(self, signal: str, previous: str | None) -> LanguageGuess:
        votes: dict[str, int] = {}
        for w in words(normalize(signal)):
            lang = SHORT_LEXICON.get(w)
            if lang:
                votes[lang] = votes.get(lang, 0) + 1
        if votes:
            best = max(votes, key=lambda k: (votes[k], k == previous))
            return LanguageGuess(best, 0.8, "lexicon")
        if previous:
            return LanguageGuess(previous, 0.5, "inherited")
        lang, prob = self._model.classify(signal)
        if prob >= 0.9 and not signal.isascii():
            return LanguageGuess(str(lang), float(prob), "model")
        if prob >= 0.9 and str(lang) in ("en", "es", "fr", "de"):
            return LanguageGuess(str(lang), float(prob) * 0.6, "model")
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

    key = hashlib.sha256(f"{py3langid.__file__}:{sorted(languages)}:v1".encode()).hexdigest()[:12]
    cache = cache_dir / f"langid-{key}.pkl" if cache_dir else None
    if cache and cache.exists():
        try:
            with cache.open("rb") as fh:
                return pickle.load(fh)  # our own cache file, written below
        except Exception:  # a corrupt cache is rebuilt, never fatal
            cache.unlink(missing_ok=True)
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    if cache:
        identifier._full_model = None  # only needed to change languages later
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(identifier, fh, protocol=5)
        tmp.replace(cache)
    return identifier
