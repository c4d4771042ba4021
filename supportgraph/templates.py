"""Localized reply templates and locale formatting of money and dates.

Each language folder holds the default wording, languages/<lang>/templates.json, as
{"key": "text with {params}"}; a brand overrides any key in <brand>/templates/<lang>.json. A key
missing in a language falls back to English, so a partial translation never crashes a turn.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from pathlib import Path
from typing import Any

from supportgraph import languages
from supportgraph.nlu.vocab import load_vocab

# Language code -> English name, for "I can't reply in Portuguese yet": every language the
# detector may answer has a vocab file with its name (supportgraph/nlu/vocab/<lang>.yaml).
LANGUAGE_NAMES = load_vocab().names


def language_name(code: str, language: str) -> str:
    """The name of a language, in another ("Polish", "polaco", "波兰语"), from babel's data."""
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(language).languages.get(code) or LANGUAGE_NAMES.get(code, code))
    except (ValueError, UnknownLocaleError):
        return LANGUAGE_NAMES.get(code, code)


def language_list(codes: list[str], language: str) -> str:
    """ "English, Spanish, or German" in the language itself, so a served language added as a
    folder needs no edit of any reply that names them."""
    from babel.lists import format_list

    return str(format_list([language_name(c, language) for c in codes], "or", locale=language))


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def format_money(amount: float | None, language: str, currency: str = "EUR") -> str:
    if amount is None:
        return "-"
    from babel.numbers import format_currency

    return str(format_currency(amount, currency, locale=language))


def format_date(value: str | dt.date | None, language: str) -> str:
    if not value:
        return "-"
    from babel.dates import format_date as babel_date

    date = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return str(babel_date(date, format="long", locale=language))


class Templates:
    def __init__(self, by_language: dict[str, dict[str, str]], fallback: str = "en") -> None:
        self.by_language = by_language
        self.fallback = fallback

    @classmethod
    def load(cls, directory: Path) -> Templates:
        data = {
            path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(directory.glob("*.json"))
        }
        if "en" not in data:
            raise FileNotFoundError(f"{directory}/en.json is required (the fallback language)")
        return cls(data)

    @classmethod
    def for_brand(cls, brand_dir: Path) -> Templates:
        """Every language folder's wording, with the brand's own keys over it."""
        data: dict[str, dict[str, str]] = {
            code: languages.read(path) for code, path in languages.files("templates.json")
        }
        own = brand_dir / "templates"
        for path in sorted(own.glob("*.json")) if own.is_dir() else []:
            data.setdefault(path.stem, {}).update(json.loads(path.read_text(encoding="utf-8")))
        return cls(data)

    def languages(self) -> list[str]:
        return list(self.by_language)

    def has(self, key: str, language: str = "en") -> bool:
        return key in self.by_language.get(language, {}) or key in self.by_language["en"]

    def render(self, key: str, language: str, /, **params: Any) -> str:
        table = self.by_language.get(language) or self.by_language[self.fallback]
        text = table.get(key) or self.by_language[self.fallback].get(key)
        if text is None:
            raise KeyError(f"template {key!r} missing in {language} and {self.fallback}")
        return string.Formatter().vformat(text, (), _SafeDict(params))
