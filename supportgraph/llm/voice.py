"""The reply's voice: the language and register the phrasing prompt asks for, and the check
that a model's reply is in that language.

- Language: by name ("Italian", "Portuguese (Brazil)", "Chinese (Simplified)"), and the
  babel locale its numbers and dates are read in by the grounding check.
- Register: the brand's choice for the language (Settings.registers, which the templates
  were loaded with), else the language's own (locale.yaml `register`). The language's
  default register is described by its vocab `replies.formality` ("Address the customer
  formally as Lei ..."); another register by its locale.yaml `registers:` description
  ("o senhor / a senhora, por gentileza, no 'te'"), since the vocab line is written for
  the default ("você").
- Check: a reply of three words or more that the project's LanguageDetector reads as
  another language is refused, like an ungrounded one (the template is sent).

All of it goes after the shared prompt prefix (prompts.py): it changes per conversation.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supportgraph import locales
from supportgraph.llm.pii import PLACEHOLDER_RE
from supportgraph.nlu.text import NOISE_RE, word_count
from supportgraph.nlu.vocab import load_vocab

if TYPE_CHECKING:
    from supportgraph.nlu.language import LanguageDetector

MIN_CHECKED_WORDS = 3  # shorter replies say too little for a detector to tell
# How a reply addresses the customer in the language's own register (usted/vous/Sie/Lei).
FORMALITY: dict[str, str] = load_vocab().by_language("replies", "formality")
# locale.yaml descriptions speak to the people who edit the templates; the model needs only
# the address form ("Sie (Ihnen, Ihr), as templates.json is written" -> "Sie (Ihnen, Ihr)").
FOR_EDITORS_RE = re.compile(
    r",?\s*as templates(?:\.\w+)?\.json is written|\s*\([^()]*templates(?:\.\w+)?\.json[^()]*\)"
)
KANA_RE = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")


def base_code(language: str) -> str:
    """ "pt-BR" -> "pt", "zh_Hans" -> "zh"."""
    return language.replace("_", "-").split("-")[0].lower()


@dataclass(frozen=True)
class Voice:
    language: str  # the reply language's code ("it")
    name: str  # how the prompt names it ("Italian")
    register: str | None  # the register's name in locale.yaml ("formal"); None: no locale
    address: str  # how to address the customer, for the prompt ("" when nothing to say)
    locale: str | None  # the babel locale of numbers and dates ("it_IT")
    variants: tuple[str, ...] = ()  # the language's other babel locales, for date order

    def prompt_lines(self) -> list[str]:
        """The prompt's lines for the voice (few tokens: each is computed on every call)."""
        return [f"Write the reply in {self.name} only.", *([self.address] if self.address else [])]


def describe(description: str) -> str:
    return FOR_EDITORS_RE.sub("", description).strip().rstrip(".")


def prompt_name(language: str) -> str:
    """The language by its English name, with the script ("Chinese (Simplified)") or, when the
    language serves one country only, the country ("Portuguese (Brazil)")."""
    code = base_code(language)
    name = load_vocab().names.get(code) or code
    settings = locales.locale_of(code)
    if settings is None:
        return name
    from babel import Locale

    english = Locale("en")
    parsed = Locale.parse(settings.locale)
    detail = english.scripts.get(parsed.script or "") if parsed.script else None
    if detail is None and len(settings.variants) <= 1 and parsed.territory:
        detail = english.territories.get(parsed.territory)
    return f"{name} ({detail})" if detail else name


def voice_for(language: str, register: str | None = None, locale: str | None = None) -> Voice:
    """The voice of a reply in `language` (a code or tag) in `register` (None: the language's
    own). `locale`: the customer's babel locale when known ("de_CH"); else the language's."""
    code = base_code(language)
    settings = locales.locale_of(code)
    name = prompt_name(code)
    if settings is None:
        return Voice(code, name, None, FORMALITY.get(code, ""), locale)
    chosen = register or settings.register
    if chosen not in settings.registers:
        raise locales.LocaleError(
            settings.path,
            "registers",
            f"no register {chosen!r} (has {', '.join(settings.registers)})",
        )
    if chosen == settings.register:  # the vocab line; none for English (no formal "you")
        address = FORMALITY.get(code, "")
    else:
        address = f"Address the customer with {describe(settings.registers[chosen])}."
    variants = () if locale else tuple(v for v in settings.variants if v != settings.locale)
    return Voice(
        code,
        name,
        chosen,
        address,
        locale or settings.for_customer(language),
        variants,
    )


@functools.cache
def _overlay(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def register_in(templates: Any, language: str) -> str | None:
    """The register the brand's templates are written in for `language`: their `registers`
    when they say (language -> register), else the register whose overlay
    (templates.<register>.json) they hold, else the language's own. None without a locale."""
    code = base_code(language)
    chosen = getattr(templates, "registers", None)
    if isinstance(chosen, Mapping) and isinstance(chosen.get(code), str):
        return str(chosen[code])
    settings = locales.locale_of(code)
    if settings is None:
        return None
    table = (getattr(templates, "by_language", None) or {}).get(code) or {}
    for name in settings.registers:
        overlay = _overlay(settings.overlay_path(name)) if name != settings.register else {}
        if overlay and 2 * sum(table.get(k) == v for k, v in overlay.items()) > len(overlay):
            return name
    return settings.register


@functools.cache
def shared_detector() -> LanguageDetector:
    """The process's detector for replies (its model loads on first use, ~1-3 s; callers that
    hold one, such as Deps.language, should pass theirs instead)."""
    from supportgraph.nlu.language import LanguageDetector

    return LanguageDetector()


def is_warm(detector: LanguageDetector) -> bool:
    return "_model" in detector.__dict__


def wrong_language(text: str, expected: str, detector: LanguageDetector) -> str | None:
    """The language a reply is in when it is not `expected` (a code); None when it is, or when
    the reply is too short or too unclear to tell."""
    signal = " ".join(NOISE_RE.sub(" ", PLACEHOLDER_RE.sub(" ", text)).split())
    if word_count(signal) < MIN_CHECKED_WORDS:
        return None
    want = base_code(expected)
    guess = detector.detect(signal, previous=want)
    if guess.method in ("inherited", "default"):
        return None  # weak evidence: the detector kept the expected language as a candidate
    found = base_code(guess.language)
    if found == want:
        return None
    if {found, want} == {"ja", "zh"} and not KANA_RE.search(signal):
        return None  # kanji alone ("出荷準備中") read as Chinese: Japanese writes them too
    return found
