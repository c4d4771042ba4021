"""The word lists of every language, read from one data file per language (<code>.yaml here).

Code that matches words (confirmations, escalation terms, request kinds, addresses, sentiment,
entities, short-message language detection, reply phrasing) asks this module for a section and
gets the lists of every language merged; it never names a language. Adding a language is adding
a file: the schema below says which sections a file must have, and `load_vocab` refuses a file
that lacks one, with the file and the section in the message.

Two kinds of file:
- a reply language (en.yaml, es.yaml, ...) has every section of SCHEMA;
- a detect-only language (`detect_only: true`, e.g. pt.yaml) is one the detector may answer
  (the reply then says, in English, that we cannot answer in it); it has a name, a rank and
  optionally short chat words and legal terms, so a lawsuit threat is caught in it too.

Files are read in `rank` order (then by code): where order matters (the first language named in
a message wins, a short word two languages share goes to the first), the lower rank comes first.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from supportgraph.languages import LANGUAGES_DIR

# Detect-only languages: one file each here. Served languages keep theirs in their folder,
# supportgraph/languages/<code>/vocab.yaml, with the rest of the language's data.
VOCAB_DIR = Path(__file__).resolve().parent
# The language every table falls back to (the brand's templates must have it too).
FALLBACK_LANGUAGE = "en"

WORDS = "a list of words or phrases"
PATTERNS = "a list of regular-expression fragments"
GROUPS = "a mapping of name -> list of words"
SCORES = "a mapping of word -> number"
PAIRS = "a mapping of phrase -> name"
TEXT = "a text (may be empty)"

# Every section a reply language must have, and what each holds. The code that reads a
# section says why it exists; en.yaml is the reference file with a comment on each.
SCHEMA: dict[str, dict[str, str]] = {
    # markers: words or letters only this language uses among its close neighbours (Danish
    # "hvad"/Norwegian "hva"; Czech "ř"/Slovak "ä"): they settle a close call of the detector.
    "detection": {"short_words": WORDS, "called": WORDS, "markers": PATTERNS},
    "confirmation": {
        "yes_words": WORDS,
        "yes_phrases": WORDS,
        "no_words": WORDS,
        "fillers": WORDS,
    },
    # other_agents: someone else's agent ("travel agent"): no request for one of ours.
    "escalation": {"legal_terms": WORDS, "human_terms": WORDS, "other_agents": WORDS},
    # Fraud and account security (supportgraph/nlu/fraud.py says how the lists combine).
    "fraud": {
        "alone": PATTERNS,
        "money": PATTERNS,
        "denial": PATTERNS,
        "card": PATTERNS,
        "card_loss": PATTERNS,
        "intruder": PATTERNS,
        "access": PATTERNS,
        "lure": PATTERNS,
        "secrets": PATTERNS,
    },
    "requests": {"kinds": GROUPS, "channels": GROUPS, "countries": GROUPS},
    "address": {
        "lead_words": WORDS,
        "street_particles": WORDS,
        "particle_prefixes": WORDS,
        "street_types": WORDS,
    },
    "sentiment": {"valence": SCORES, "negators": WORDS, "intensifiers": SCORES},
    "entities": {
        "order_words": PATTERNS,
        "number_words": PATTERNS,
        "postcode_words": PATTERNS,
        "postcode_tails": PATTERNS,
        "postcode_formats": PATTERNS,
        "copulas": PATTERNS,
        "quantity_units": PATTERNS,
        "size_words": PATTERNS,
        "fit_words": PATTERNS,
        "size_hints": WORDS,
        "shoe_words": WORDS,
        "name_intros": PATTERNS,
        "name_particles": WORDS,
        "name_outros": PATTERNS,
        "not_names": WORDS,
        "not_order_prefixes": WORDS,
        "colours": GROUPS,
        "colour_phrases": PAIRS,
        "product_types": GROUPS,
        "stop_words": WORDS,
    },
    "replies": {"formality": TEXT, "trouble": TEXT},
}
# What a detect-only language may have besides name and rank.
DETECT_ONLY_SCHEMA: dict[str, dict[str, str]] = {
    "detection": {"short_words": WORDS, "markers": PATTERNS},
    "escalation": {"legal_terms": WORDS},
    "fraud": {"alone": PATTERNS},
}
HEADER = {"name", "rank"}


class VocabError(ValueError):
    """A vocab file that does not follow the schema; the message names the file and the key."""


# libyaml's parser when present: ten times faster than the pure-Python one (~5 ms for all files).
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """YAML without implicit booleans: in a word list `no`, `yes`, `on` and `off` are words."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in English: "I can't reply in Portuguese yet"
    rank: int
    detect_only: bool
    sections: dict[str, dict[str, Any]]

    def get(self, section: str, key: str) -> Any:
        """The value, or an empty one of the schema's type (detect-only files are partial)."""
        value = self.sections.get(section, {}).get(key)
        if value is not None:
            return value
        kind = SCHEMA[section][key]
        return "" if kind is TEXT else {} if kind in (GROUPS, SCORES, PAIRS) else []


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Every language file of one directory, in rank order."""

    directory: Path
    languages: tuple[Language, ...]

    @property
    def codes(self) -> list[str]:
        """Every language the detector may answer."""
        return [lang.code for lang in self.languages]

    @property
    def reply_languages(self) -> list[str]:
        """Languages with complete word lists (a brand still needs templates to reply in one)."""
        return [lang.code for lang in self.languages if not lang.detect_only]

    @property
    def names(self) -> dict[str, str]:
        return {lang.code: lang.name for lang in self.languages}

    def by_language(self, section: str, key: str) -> dict[str, Any]:
        """code -> the value of one key, for languages whose file has it."""
        return {
            lang.code: lang.get(section, key)
            for lang in self.languages
            if key in lang.sections.get(section, {})
        }

    def words(self, section: str, key: str) -> list[str]:
        """One list merged over every language, in rank order, each item once."""
        return _unique(item for lang in self.languages for item in lang.get(section, key))

    def groups(self, section: str, key: str) -> dict[str, list[str]]:
        """name -> words, merged over every language (names in order of first appearance)."""
        merged: dict[str, list[str]] = {}
        for lang in self.languages:
            for name, items in lang.get(section, key).items():
                merged.setdefault(str(name), []).extend(items)
        return {name: _unique(items) for name, items in merged.items()}

    def pairs(self, section: str, key: str) -> dict[str, Any]:
        """key -> value merged over every language; where two languages disagree, the first
        (lowest rank) wins."""
        merged: dict[str, Any] = {}
        for lang in self.languages:
            for k, v in lang.get(section, key).items():
                merged.setdefault(str(k), v)
        return merged


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _is_words(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_value(where: str, kind: str, value: Any) -> None:
    ok = {
        WORDS: _is_words,
        PATTERNS: _is_words,
        TEXT: lambda v: isinstance(v, str),
        GROUPS: lambda v: isinstance(v, dict) and all(_is_words(x) for x in v.values()),
        SCORES: lambda v: (
            isinstance(v, dict)
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v.values())
        ),
        PAIRS: lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
    }[kind](value)
    if not ok:
        raise VocabError(f"{where} must be {kind}; got {value!r:.80}")


def _check_sections(path: Path, data: dict[str, Any], schema: dict[str, dict[str, str]]) -> None:
    complete = schema is SCHEMA
    for section, keys in schema.items():
        block = data.get(section)
        if block is None:
            if complete:
                raise VocabError(
                    f"{_label(path)}: missing section {section!r} ({', '.join(keys)}); a reply "
                    f"language needs every section of {FALLBACK_LANGUAGE}.yaml (an empty list "
                    "is fine), or `detect_only: true`"
                )
            continue
        if not isinstance(block, dict):
            raise VocabError(f"{_label(path)}: {section} must be a mapping of {', '.join(keys)}")
        for key, kind in keys.items():
            if key not in block:
                if complete:
                    raise VocabError(
                        f"{_label(path)}: missing {section}.{key} ({kind}); a reply language needs "
                        f"every list of {FALLBACK_LANGUAGE}.yaml (an empty one is fine)"
                    )
                continue
            _check_value(f"{_label(path)}: {section}.{key}", kind, block[key])
        unknown = set(block) - set(keys)
        if unknown:
            raise VocabError(
                f"{_label(path)}: unknown key(s) {sorted(unknown)} in {section}; known: {list(keys)}"
            )
    unknown_sections = set(data) - set(schema) - HEADER - {"detect_only"}
    if unknown_sections:
        raise VocabError(
            f"{_label(path)}: unknown section(s) {sorted(unknown_sections)}; known: {list(schema)}"
        )


def parse(text: str) -> Any:
    """A vocab file's YAML, with `no`, `yes`, `on`, `off` read as words."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader


def read_language(path: Path) -> Language:
    """One language file, checked against the schema."""
    data = parse(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise VocabError(f"{_label(path)}: expected a mapping of sections")
    for key in sorted(HEADER):
        if key not in data:
            raise VocabError(f"{_label(path)}: missing {key!r}")
    if not isinstance(data["name"], str) or not isinstance(data["rank"], int):
        raise VocabError(f"{_label(path)}: name must be a text and rank a whole number")
    detect_only = str(data.get("detect_only", "false")).lower() == "true"
    _check_sections(path, data, DETECT_ONLY_SCHEMA if detect_only else SCHEMA)
    sections = {k: v for k, v in data.items() if isinstance(v, dict)}
    return Language(_code(path), data["name"], data["rank"], detect_only, sections)


def _code(path: Path) -> str:
    """`it.yaml` and `it/vocab.yaml` both hold Italian."""
    return path.parent.name if path.name == "vocab.yaml" else path.stem


def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}" if path.name == "vocab.yaml" else path.name


def language_files(*directories: Path) -> list[Path]:
    """The vocab files of some directories: `<code>.yaml`, or `<code>/vocab.yaml` in a language
    folder. A later directory's file replaces an earlier one's of the same code, so a language
    folder's complete word lists replace the language's detect-only stub."""
    by_code: dict[str, Path] = {}
    for directory in directories:
        for path in [*directory.glob("*.yaml"), *directory.glob("*/vocab.yaml")]:
            by_code[_code(path)] = path
    return [by_code[code] for code in sorted(by_code)]


@functools.lru_cache(maxsize=8)
def _load(directories: tuple[Path, ...]) -> Vocabulary:
    languages = [read_language(path) for path in language_files(*directories)]
    if not any(lang.code == FALLBACK_LANGUAGE for lang in languages):
        raise VocabError(f"{directories[-1]}: {FALLBACK_LANGUAGE}.yaml is required (the fallback)")
    languages.sort(key=lambda lang: (lang.rank, lang.code))
    return Vocabulary(directories[-1], tuple(languages))


def load_vocab(directory: Path | None = None) -> Vocabulary:
    """The vocabulary of a directory (default: the detect-only files here and every language
    folder's vocab.yaml), read once per process."""
    directories = (directory,) if directory else (VOCAB_DIR, LANGUAGES_DIR)
    return _load(tuple(d.resolve() for d in directories))


def brand_reply_languages(templates_dir: Path, vocab: Vocabulary | None = None) -> list[str]:
    """The languages a brand can reply in: complete word lists, and reply templates in the
    brand (<brand>/templates/<code>.json) or in the language's folder (languages/<code>/)."""
    vocab = vocab or load_vocab()
    return [
        code
        for code in vocab.reply_languages
        if (templates_dir / f"{code}.json").exists()
        or (LANGUAGES_DIR / code / "templates.json").exists()
    ]
