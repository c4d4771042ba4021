"""How each language writes money, dates and the customer: `languages/<code>/locale.yaml`.

One job: read and validate these files (cached). A wrong file is refused with its path and the
key at fault (`LocaleError`), when it is first read. The keys:

- `locale`: the babel locale money and dates are written with by default (pt -> pt_BR);
- `variants`: `{babel locale: [customer countries]}`, the regional forms of the language.
  The rule (`LocaleSettings.for_customer`): a locale tag that names a variant's country ("fr-CA") wins,
  then the customer's country (their address, their order's destination), else `locale`;
- `digits`: `latn` (0-9) or `native`: the digits of the locale's own numbering system, e.g.
  Arabic-Indic ١٢٣ for ar_SA and ar_EG, while ar_AE writes 0-9 (CLDR's choice per country);
- `direction`: `ltr` or `rtl`, for the pages that show the language;
- `currency_symbols`: `{ISO code: symbol}`, a symbol the shop writes instead of CLDR's;
- `register`: how `templates.json` addresses the customer; `registers`: `{name: description}`,
  every register the language offers. A register other than the default is an overlay,
  `templates.<register>.json` next to `templates.json`, holding only the keys that differ; a
  brand picks it with the `registers` setting (config.Settings).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from supportgraph import languages

FILE_NAME = "locale.yaml"
KEYS = {"locale", "variants", "digits", "direction", "currency_symbols", "register", "registers"}
REQUIRED = ("locale", "direction", "register", "registers")
# The first digit (zero) of the numbering systems `digits: native` can write; a locale whose
# system is not here is refused rather than written in digits it does not use.
DIGIT_ZERO = {
    "latn": "0",
    "arab": "\u0660",  # Arabic-Indic: ٠١٢٣٤٥٦٧٨٩
    "arabext": "\u06f0",  # Extended Arabic-Indic (Persian, Urdu): ۰۱۲۳۴۵۶۷۸۹
    "deva": "\u0966",  # Devanagari
    "beng": "\u09e6",  # Bengali
    "thai": "\u0e50",  # Thai
    "mymr": "\u1040",  # Myanmar
}


class LocaleError(ValueError):
    """A locale.yaml (or a register choice) that is wrong: says which file and which key."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path, self.key = Path(path), key
        super().__init__(f"{path}: {key}: {problem}")


@dataclass(frozen=True)
class LocaleSettings:
    """One language's locale settings, as its locale.yaml declares them."""

    code: str
    path: Path
    locale: str
    direction: str
    register: str
    registers: dict[str, str]
    variants: dict[str, tuple[str, ...]] = field(default_factory=dict)
    digits: str = "latn"
    currency_symbols: dict[str, str] = field(default_factory=dict)

    def for_customer(self, tag: str | None = None, country: str | None = None) -> str:
        """The babel locale to write for this customer: the variant whose countries hold the
        country named in `tag` ("fr-CA", "es_MX"), else the one holding `country`, else the
        language's default."""
        for wanted in (_territory(tag), (country or "").upper() or None):
            if wanted is None:
                continue
            for variant, countries in self.variants.items():
                if wanted in countries:
                    return variant
        return self.locale

    def digit_table(self, babel_locale: str) -> dict[int, str] | None:
        """str.translate table from 0-9 to the locale's own digits; None when they are 0-9."""
        if self.digits != "native":
            return None
        zero = DIGIT_ZERO[_numbering_system(babel_locale)]
        if zero == "0":
            return None
        return {ord("0") + n: chr(ord(zero) + n) for n in range(10)}

    def overlay_path(self, register: str) -> Path:
        return self.path.parent / f"templates.{register}.json"


def _territory(tag: str | None) -> str | None:
    """The country of a locale tag: "fr-CA" -> "CA", "zh-Hans-CN" -> "CN", "de" -> None."""
    for part in (tag or "").replace("_", "-").split("-")[1:]:
        if (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            return part.upper()
    return None


def _numbering_system(babel_locale: str) -> str:
    from babel import Locale as BabelLocale

    return str(BabelLocale.parse(babel_locale).default_numbering_system)


def _babel_locale(path: Path, key: str, value: Any, language: str) -> str:
    """A babel locale of this language, or LocaleError naming the key."""
    from babel import Locale as BabelLocale
    from babel import UnknownLocaleError

    if not isinstance(value, str) or not value:
        raise LocaleError(path, key, f"a babel locale name is required (like pt_BR), got {value!r}")
    try:
        parsed = BabelLocale.parse(value.replace("-", "_"))
    except (ValueError, UnknownLocaleError) as exc:
        raise LocaleError(path, key, f"babel knows no locale {value!r} ({exc})") from None
    if parsed.language != language:
        raise LocaleError(
            path, key, f"{value!r} is a locale of {parsed.language!r}, not of {language!r}"
        )
    return str(parsed)


def _mapping(path: Path, key: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LocaleError(path, key, f"a mapping is required, got {type(value).__name__}")
    return value


def parse(path: Path, code: str | None = None) -> LocaleSettings:
    """Read and check one locale.yaml; `code` is the language (default: its folder's name)."""
    code = code or path.parent.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LocaleError(path, "(file)", f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise LocaleError(path, "(file)", "a mapping of keys is required")
    for key in data:
        if key not in KEYS:
            raise LocaleError(path, str(key), f"unknown key (known: {', '.join(sorted(KEYS))})")
    for key in REQUIRED:
        if key not in data:
            raise LocaleError(path, key, "missing")
    default = _babel_locale(path, "locale", data["locale"], code)

    variants: dict[str, tuple[str, ...]] = {}
    for name, countries in _mapping(path, "variants", data.get("variants")).items():
        variant = _babel_locale(path, f"variants.{name}", name, code)
        if not isinstance(countries, list) or not all(
            isinstance(c, str) and (len(c) == 2 and c.isalpha() and c.isupper()) for c in countries
        ):
            raise LocaleError(
                path, f"variants.{name}", "a list of ISO country codes is required, like [CA]"
            )
        variants[variant] = tuple(countries)
    if variants and default not in variants:
        raise LocaleError(path, "locale", f"{default!r} is not one of the variants")

    direction = data["direction"]
    if direction not in ("ltr", "rtl"):
        raise LocaleError(path, "direction", f"ltr or rtl, got {direction!r}")
    digits = data.get("digits", "latn")
    if digits not in ("latn", "native"):
        raise LocaleError(path, "digits", f"latn or native, got {digits!r}")
    if digits == "native":
        for name in (default, *variants):
            system = _numbering_system(name)
            if system not in DIGIT_ZERO:
                raise LocaleError(path, "digits", f"{name} counts in {system!r}: no digit table")

    symbols = _mapping(path, "currency_symbols", data.get("currency_symbols"))
    for currency, symbol in symbols.items():
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isupper()):
            raise LocaleError(path, f"currency_symbols.{currency}", "not an ISO currency code")
        if not isinstance(symbol, str) or not symbol.strip():
            raise LocaleError(path, f"currency_symbols.{currency}", "a symbol is required")

    registers = _mapping(path, "registers", data["registers"])
    register = data["register"]
    if not registers or not all(isinstance(v, str) and v.strip() for v in registers.values()):
        raise LocaleError(path, "registers", "each register needs a description")
    if register not in registers:
        raise LocaleError(path, "register", f"{register!r} is not one of registers")
    for name in registers:
        if not (isinstance(name, str) and name.isidentifier()):
            raise LocaleError(path, f"registers.{name}", "a register name is one plain word")
        overlay = path.parent / f"templates.{name}.json"
        if name != register and not overlay.is_file():
            raise LocaleError(path, f"registers.{name}", f"no {overlay.name} next to this file")

    return LocaleSettings(
        code=code,
        path=path,
        locale=default,
        direction=direction,
        register=register,
        registers=dict(registers),
        variants=variants,
        digits=digits,
        currency_symbols=dict(symbols),
    )


@functools.cache
def load_all() -> dict[str, LocaleSettings]:
    """Every language folder's locale settings, by language code (read once per process)."""
    return {code: parse(path, code) for code, path in languages.files(FILE_NAME)}


def locale_of(language: str) -> LocaleSettings | None:
    """The settings of a language code or tag ("pt", "pt-BR", "fr_CA"); None without a file."""
    code = language.replace("_", "-").split("-")[0].lower()
    return load_all().get(code)


def direction(language: str) -> str:
    """ "rtl" or "ltr" for a language code or tag (ltr when the language has no locale.yaml)."""
    found = locale_of(language)
    return found.direction if found else "ltr"


def register_for(language: str, registers: Mapping[str, str] | None = None) -> str | None:
    """The register a brand chose for `language` (its `registers` setting), else the default;
    None for a language without locale.yaml. An unknown choice is a LocaleError."""
    found = locale_of(language)
    chosen = (registers or {}).get(language)
    if found is None:
        if chosen is not None:
            path = languages.LANGUAGES_DIR / language / FILE_NAME
            raise LocaleError(path, "(file)", "missing, and the registers setting names it")
        return None
    if chosen is None:
        return found.register
    if chosen not in found.registers:
        raise LocaleError(
            found.path,
            "registers",
            f"the registers setting asks for {chosen!r}; "
            f"this language has {', '.join(found.registers)}",
        )
    return chosen
