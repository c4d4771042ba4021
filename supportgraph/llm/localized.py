"""Numbers and dates as a locale writes them, read back to their values for the grounding check.

The facts carry amounts and dates as the customer's locale writes them ("64,90 €",
"‏١٬٢٣٤٫٥٦ €", "R$ 1.234,56", "¥1,235", "5. März 2024", "٥ مارس ٢٠٢٤", "2024年3月5日"), and a
model may write the same value in another accepted form: other digits (Western for
Arabic-Indic, full-width for ASCII, and back), other separators ("1234.56" for "1.234,56"),
another date form ("05.03.2024", "March 5"). What counts is the value:

- digits: `domain.text.plain_forms` (every Unicode decimal digit as 0-9, full-width by NFKC);
- separators: ٬ groups and ٫ is the decimal point everywhere; a thin or no-break space or an
  apostrophe between digits groups ("1 234,56", "1'234.56"); "1.234,56" and "1,234.56" have
  one reading each; "64.90" and "64,90" too (a group has three digits). Only a single
  separator before three digits is ambiguous: "1.234" is 1234 in German, 1.234 in English,
  so it is read by the locale of the reply (`Style.decimals`, `Style.groups`, from babel);
- dates: ISO and year-first (2024/3/5), CJK (2024年3月5日), a month name in any served
  language (babel's names for every country the language's locale.yaml serves), and numeric
  day-first or month-first as the locale writes its short dates (3/5/2024 is March 5 in
  en_US, May 3 in en_GB).

Without a locale (`style(None)`) every reading counts, as the check did before languages
had locales.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from supportgraph.domain.text import UNSPACED_RE, plain_forms, strip_accents

GROUP = "\u066c"  # ٬ Arabic thousands separator: the one group mark the check reads
DECIMAL = "\u066b"  # ٫ Arabic decimal separator
# Direction marks babel writes around Arabic numbers and dates ("‏5/3/2024"): no meaning.
BIDI_RE = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
# A thin, narrow or no-break space, or an apostrophe, between digits before a group of three.
SPACE_GROUP_RE = re.compile(r"(?<=\d)[\u00a0\u202f\u2009'’\uff0c](?=\d{3}(?!\d))")
# Any other full-width comma is punctuation ("€64.90，2024年"), not the "," NFKC makes of it.
WIDE_COMMA_RE = re.compile("\uff0c")
# A plain space as a group mark ("1 234,56 €"), only in locales that group with spaces and
# only before decimals or a currency: "2 100" alone stays two numbers.
PLAIN_SPACE_GROUP_RE = re.compile(
    r"(?<![\d.,])\d{1,3}(?: \d{3})+(?=,\d|\s?[€$£¥]|\s?(?:eur|chf|usd|cad)\b)", re.IGNORECASE
)
# A number inside a token: digits with separators between them.
NUMBER_RE = re.compile(rf"\d(?:\d|[.,{GROUP}{DECIMAL}](?=\d))*")
SPACES = frozenset("\u00a0\u202f\u2009 ")
# Letters of other scripts next to digits ("订单SG-10234已取消", "金额为64.90欧元"): no id
# holds them, and CJK text has no spaces to end a token, so they end one.
NON_LATIN_LETTER_RE = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f]")
CJK_DATE_RE = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]")
YEAR_FIRST_RE = re.compile(r"(?<!\d)(?<!\d[.,])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d]|[.,]\d)")
NUMERIC_DATE_RE = re.compile(
    r"(?<!\d)(?<!\d[.,/-])(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?![\d]|[.,]\d)"
)
ORDINAL = r"(?:st|nd|rd|th|er|re|e|o|a|°)?\.?"

# Month names the check knew before it asked babel (kept: accents dropped, short forms).
BASIC_MONTHS = [
    "january enero janvier januar jan",
    "february febrero fevrier février februar feb",
    "march marzo mars märz marz mar",
    "april abril avril apr",
    "may mayo mai",
    "june junio juin juni jun",
    "july julio juillet juli jul",
    "august agosto aout août aug",
    "september septiembre septembre sep sept",
    "october octubre octobre oktober oct okt",
    "november noviembre novembre nov",
    "december diciembre decembre décembre dezember dec dez",
]
LETTERS_RE = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class DateMention:
    day: int
    month: int
    year: int | None
    start: int
    end: int


@dataclass(frozen=True)
class Style:
    """How one locale writes numbers and dates, for reading them back."""

    locale: str | None
    decimals: frozenset[str]  # read as the decimal point before three digits
    groups: frozenset[str]  # read as a group mark before three digits
    day_first: bool | None  # numeric dates: None reads both orders
    space_groups: bool  # a plain space may group digits ("1 234,56 €")
    months: tuple[tuple[str, int], ...]  # (lower-case name, month), longest first

    @functools.cached_property
    def _month_re(self) -> str:
        names = "|".join(
            r"\s+".join(re.escape(part) for part in name.split()) for name, _ in self.months
        )
        return f"(?:{names})"

    @functools.cached_property
    def month_of(self) -> dict[str, int]:
        return dict(self.months)

    @functools.cached_property
    def day_month_re(self) -> re.Pattern[str]:
        return re.compile(
            rf"(?<!\d)(?<!\d[.,])(\d{{1,2}}){ORDINAL}\s+(?:de\s+|of\s+)?({self._month_re})(?!\w)\.?"
            r"(?:,?\s+(?:de\s+)?(\d{4})(?!\d))?",
            re.IGNORECASE,
        )

    @functools.cached_property
    def month_day_re(self) -> re.Pattern[str]:
        return re.compile(
            rf"(?<!\w)({self._month_re})\.?\s+(\d{{1,2}})(?![\d]|[.,]\d)(?:st|nd|rd|th)?"
            r"(?:,?\s+(\d{4})(?!\d))?",
            re.IGNORECASE,
        )


def _symbols(locale: str) -> tuple[set[str], set[str], bool | None]:
    from babel import Locale

    parsed = Locale.parse(locale)
    decimals: set[str] = set()
    groups: set[str] = set()
    for system in {str(parsed.default_numbering_system), "latn"}:
        symbols = parsed.number_symbols.get(system) or {}
        decimals.add(symbols.get("decimal", "."))
        groups.add(symbols.get("group", ","))
    pattern = BIDI_RE.sub("", parsed.date_formats["short"].pattern)
    day, month = pattern.find("d"), pattern.find("M")
    day_first = None if day < 0 or month < 0 or pattern.find("y") == 0 else day < month
    return decimals, groups, day_first


def _clean_name(name: str) -> str:
    return " ".join(BIDI_RE.sub("", name).lower().rstrip(".").split())


@functools.cache
def _babel_months() -> dict[str, dict[str, tuple[tuple[str, int], ...]]]:
    """language -> {"wide": names, "abbreviated": names}: babel's month names for every
    locale a served language writes (locale.yaml `locale` and `variants`) and every country
    those variants serve (ar_JO writes آذار for March, ar_SA مارس)."""
    from babel import Locale, UnknownLocaleError

    from supportgraph import locales

    found: dict[str, dict[str, tuple[tuple[str, int], ...]]] = {}
    for code, settings in locales.load_all().items():
        names = {str(settings.locale), *settings.variants}
        for countries in settings.variants.values():
            names |= {f"{code}_{country}" for country in countries}
        wide: dict[str, int] = {}
        short: dict[str, int] = {}
        for name in sorted(names):
            try:
                parsed = Locale.parse(name)
            except (ValueError, UnknownLocaleError):
                continue
            for context in ("format", "stand-alone"):
                for width, into in (("wide", wide), ("abbreviated", short)):
                    for month, text in parsed.months[context][width].items():
                        clean = _clean_name(text)
                        if not LETTERS_RE.search(clean) or UNSPACED_RE.search(clean):
                            continue  # "3月", "M03", "三月": the CJK pattern reads those
                        if any(ch.isdigit() for ch in clean):
                            continue
                        into.setdefault(clean, int(month))
                        into.setdefault(strip_accents(clean), int(month))
        found[code] = {"wide": tuple(wide.items()), "abbreviated": tuple(short.items())}
    return found


def _basic_months() -> dict[str, int]:
    return {
        name: number for number, names in enumerate(BASIC_MONTHS, start=1) for name in names.split()
    }


def _language(locale: str) -> str:
    return locale.replace("-", "_").split("_")[0].lower()


@functools.cache
def style(locale: str | None, variants: tuple[str, ...] = ()) -> Style:
    """The reading of `locale` (a babel name, "de_DE"); None: every locale's readings.

    `variants`: other locales the reply may be written in (the customer's country is not
    known): numeric dates are read in both orders when they order them differently (en_US
    writes 3/5/2024 for March 5, en_GB for May 3). Numbers follow `locale` alone."""
    babel = _babel_months()
    months = _basic_months()
    for tables in babel.values():
        months.update({n: m for n, m in tables["wide"] if n not in months})
    if locale is None:
        for tables in babel.values():
            months.update({n: m for n, m in tables["abbreviated"] if n not in months})
        return Style(
            None,
            frozenset(".,"),
            frozenset(".,"),
            None,
            True,
            tuple(sorted(months.items(), key=lambda item: -len(item[0]))),
        )
    # Short names ("mar", "set", "out") only in the reply's own language (and English, which
    # models fall back to): "out 3" is October 3 in Portuguese and nothing in English.
    for code in (_language(locale), "en"):
        own = babel.get(code)
        if own:
            months.update({n: m for n, m in own["abbreviated"] if n not in months})
    decimals, groups, day_first = _symbols(locale)
    for variant in variants:
        other = _symbols(variant)[2]
        if other is not None and day_first is not None and other != day_first:
            day_first = None
    return Style(
        locale,
        frozenset(decimals),
        frozenset(groups),
        day_first,
        bool(groups & SPACES),
        tuple(sorted(months.items(), key=lambda item: -len(item[0]))),
    )


def prepare(text: str, reading: Style) -> str:
    """The text with its digits as 0-9, direction marks dropped, and group marks made plain
    (٬): what numbers and dates are read from."""
    text = BIDI_RE.sub("", text)
    text = SPACE_GROUP_RE.sub(GROUP, text)
    text = plain_forms(WIDE_COMMA_RE.sub("\u3001", text))
    if reading.space_groups:
        text = PLAIN_SPACE_GROUP_RE.sub(lambda m: m.group(0).replace(" ", GROUP), text)
    return text


def token_text(prepared: str) -> str:
    """`prepared` with letters of other scripts as spaces (same length): ids and numbers
    are written in Latin letters and digits, so CJK or Arabic letters end a token."""
    return NON_LATIN_LETTER_RE.sub(" ", prepared)


def _grouped(parts: list[str]) -> bool:
    head, rest = parts[0], parts[1:]
    return (
        bool(rest)
        and 1 <= len(head) <= 3
        and not (head.startswith("0"))
        and all(len(p) == 3 for p in rest)
    )


def number_values(run: str, reading: Style) -> set[float]:
    """The values a number (digits and separators, as NUMBER_RE finds it) may mean here."""
    if DECIMAL in run:
        whole, _, fraction = run.partition(DECIMAL)
        whole = re.sub(rf"[.,{GROUP}]", "", whole)
        return {round(float(f"{whole or 0}.{fraction}"), 4)} if fraction.isdigit() else set()
    run = run.replace(GROUP, "")
    marks = [c for c in run if c in ".,"]
    if not marks:
        return {float(run)}
    if len(set(marks)) == 2:
        point = run[max(run.rfind("."), run.rfind(","))]
        group = "," if point == "." else "."
        whole, _, fraction = run.rpartition(point)
        if point in whole or not (group not in whole or _grouped(whole.split(group))):
            return set()
        return {round(float(whole.replace(group, "") + "." + fraction), 4)}
    mark = marks[0]
    parts = run.split(mark)
    if len(parts) > 2:
        return {float("".join(parts))} if _grouped(parts) else set()
    as_decimal = round(float(f"{parts[0]}.{parts[1]}"), 4)
    if not _grouped(parts):
        return {as_decimal}
    as_group = float("".join(parts))
    is_decimal, is_group = mark in reading.decimals, mark in reading.groups
    if is_decimal == is_group:  # no locale, or one that writes neither: both readings
        return {as_decimal, as_group}
    return {as_decimal} if is_decimal else {as_group}


def _year(text: str | None) -> int | None:
    if not text:
        return None
    year = int(text)
    return year + 2000 if year < 100 else year


def _valid(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def date_mentions(prepared: str, reading: Style) -> Iterator[list[DateMention]]:
    """Each date written in `prepared` (see `prepare`), as the readings it may have (one,
    or two for a numeric date the locale does not order)."""
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    found: list[tuple[int, list[DateMention]]] = []

    def add(start: int, end: int, readings: list[tuple[int, int, int | None]]) -> None:
        valid = [(d, m, y) for d, m, y in readings if _valid(d, m)]
        if valid and free(start, end):
            taken.append((start, end))
            found.append((start, [DateMention(d, m, y, start, end) for d, m, y in valid]))

    for match in CJK_DATE_RE.finditer(prepared):
        year, month, day = match.groups()
        add(*match.span(), [(int(day), int(month), _year(year))])
    for match in YEAR_FIRST_RE.finditer(prepared):
        year, _, month, day = match.groups()
        add(*match.span(), [(int(day), int(month), int(year))])
    for match in NUMERIC_DATE_RE.finditer(prepared):
        first, _, second, year = match.groups()
        a, b, y = int(first), int(second), _year(year)
        if reading.day_first is None:
            readings = [(a, b, y), (b, a, y)]
        else:
            readings = [(a, b, y)] if reading.day_first else [(b, a, y)]
        add(*match.span(), readings)
    for match in reading.day_month_re.finditer(prepared):
        day, name, year = match.groups()
        month = reading.month_of.get(" ".join(name.lower().split()))
        if month is not None:
            add(*match.span(), [(int(day), month, _year(year))])
    for match in reading.month_day_re.finditer(prepared):
        name, day, year = match.groups()
        month = reading.month_of.get(" ".join(name.lower().split()))
        if month is not None:
            add(*match.span(), [(int(day), month, _year(year))])
    for _, mentions in sorted(found, key=lambda item: item[0]):
        yield mentions
