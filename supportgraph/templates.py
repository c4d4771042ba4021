"""Localized reply templates and locale formatting of money and dates.

Each language folder holds the default wording, languages/<lang>/templates.json, as
{"key": "text with {params}"}; a brand overrides any key in <brand>/templates/<lang>.json. A key
missing in a language falls back to English, so a partial translation never crashes a turn.
A register other than the language's own (locale.yaml) is an overlay of the keys that differ,
languages/<lang>/templates.<register>.json, chosen per language by the `registers` setting.
Money and dates follow the language's locale.yaml (supportgraph/locales.py).
"""

from __future__ import annotations

import datetime as dt
import json
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from supportgraph import languages, locales
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


def babel_locale(language: str, country: str | None = None) -> str:
    """The babel locale to write for a reply language (a code, "pt", or a tag, "fr-CA") and
    the customer's country, by the language's locale.yaml (supportgraph/locales.py); a
    language without one is written with babel's own data for it."""
    found = locales.locale_of(language)
    if found is None:
        return language.replace("-", "_")
    return found.for_customer(language, country)


def _localized(text: str, language: str, babel_name: str) -> str:
    found = locales.locale_of(language)
    table = found.digit_table(babel_name) if found else None
    return text.translate(table) if table else text


def format_money(
    amount: float | None, language: str, currency: str = "EUR", *, country: str | None = None
) -> str:
    """An amount as the language writes it: "1.234,56 €" (de), "R$ 1.234,56" (pt, BRL),
    "¥1,235" (ja, JPY), "‏١٬٢٣٤٫٥٦ €" (ar)."""
    if amount is None:
        return "-"
    from babel.numbers import format_currency, get_currency_symbol

    name = babel_locale(language, country)
    found = locales.locale_of(language)
    native = found is not None and found.digits == "native"
    text = str(
        format_currency(
            amount, currency, locale=name, numbering_system="default" if native else "latn"
        )
    )
    symbol = found.currency_symbols.get(currency) if found else None
    if symbol:
        text = text.replace(str(get_currency_symbol(currency, name)), symbol)
    return _localized(text, language, name)


def format_date(value: str | dt.date | None, language: str, *, country: str | None = None) -> str:
    """A date as the language writes it: "5. März 2024" (de), "2024年3月5日" (ja),
    "٥ مارس ٢٠٢٤" (ar)."""
    if not value:
        return "-"
    from babel.dates import format_date as babel_date

    name = babel_locale(language, country)
    date = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return _localized(str(babel_date(date, format="long", locale=name)), language, name)


def format_number(value: float, language: str, *, country: str | None = None) -> str:
    """A plain number as the language writes it: "-0,72" (de), "-٠٫٧٢" (ar)."""
    from babel.numbers import format_decimal

    name = babel_locale(language, country)
    found = locales.locale_of(language)
    system = "default" if found is not None and found.digits == "native" else "latn"
    text = str(format_decimal(value, locale=name, numbering_system=system))
    return _localized(text, language, name)


def text_direction(language: str) -> str:
    """ "rtl" or "ltr": how a reply in this language runs (locale.yaml's `direction`)."""
    return locales.direction(language)


def _overlay(path: Path, base: dict[str, str]) -> dict[str, str]:
    """A register's overlay: only keys of `base`, each with the same {placeholders}."""
    overlay: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    for key, text in overlay.items():
        if key not in base:
            raise locales.LocaleError(path, key, "not a key of the language's templates")
        if _fields(text) != _fields(base[key]):
            raise locales.LocaleError(
                path, key, f"placeholders {sorted(_fields(text))} differ from the template's"
            )
    return overlay


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Templates:
    def __init__(
        self,
        by_language: dict[str, dict[str, str]],
        fallback: str = "en",
        registers: dict[str, str] | None = None,
    ) -> None:
        self.by_language = by_language
        self.fallback = fallback
        # language -> the register the wording is in (LLM phrasing asks the model for it)
        self.registers = registers or {}

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
    def for_brand(cls, brand_dir: Path, register: Mapping[str, str] | None = None) -> Templates:
        """Every language folder's wording in the register the brand chose for it (`register`:
        language -> register, the registers setting; default: the language's own, locale.yaml),
        with the brand's own keys over it: <brand>/templates/<lang>.json, then
        <brand>/templates/<lang>.<register>.json."""
        data: dict[str, dict[str, str]] = {
            code: languages.read(path) for code, path in languages.files("templates.json")
        }
        chosen: dict[str, str] = {}
        for code in sorted(set(data) | set(register or {})):
            name = locales.register_for(code, register)
            if name is None:
                continue
            chosen[code] = name
            settings = locales.locale_of(code)
            if settings is not None and name != settings.register:
                base = data.get(code, {})
                data[code] = {**base, **_overlay(settings.overlay_path(name), base)}
        own = brand_dir / "templates"
        for path in sorted(own.glob("*.json")) if own.is_dir() else []:
            code, _, name = path.stem.partition(".")
            if name:
                continue  # a register's overlay (<lang>.<register>.json): below, if chosen
            data.setdefault(code, {}).update(json.loads(path.read_text(encoding="utf-8")))
        for code, name in chosen.items():
            path = own / f"{code}.{name}.json"
            if path.is_file() and code in data:
                data[code].update(_overlay(path, data[code]))
        return cls(data, registers=chosen)

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
