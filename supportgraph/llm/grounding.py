"""Grounding check: the numbers, ids, dates and amounts of a model's reply must come from facts.

A model phrasing "your order ships on March 3" when the facts say March 12 is worse than a
stiff template, so any such token that the facts do not contain rejects the reply (the
caller then uses the template). Comparison is on meaning, not spelling: "59.90" matches
"59,90 €", "٦٤٫٩٠" matches "64.90", "1234,56" matches "R$ 1.234,56", "March 12" matches
"2026-03-12" and "12. März 2026", "3月12日" matches "١٢ مارس ٢٠٢٦"; "SG-10234" must match an
id in the facts. Numbers and dates are read as the reply's locale writes them
(localized.py): "1.234" is 1234 in a German reply and 1.234 in an English one. Numbers
written as words are not checked (a known limit).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from supportgraph.llm.localized import (
    DECIMAL,
    GROUP,
    NUMBER_RE,
    DateMention,
    Style,
    date_mentions,
    number_values,
    prepare,
    style,
    token_text,
)
from supportgraph.llm.pii import PLACEHOLDER_RE, Redactor

TOKEN_RE = re.compile(rf"(?:[\w#]+-)?[\w#]*\d[\w.,:/#{GROUP}{DECIMAL}-]*")
TRAILING = f".,:/-{GROUP}{DECIMAL}"
# Letters next to digits that do not make an id: units, ordinals, currency, times.
UNIT_LETTERS = {
    "st", "nd", "rd", "th", "er", "e", "eme", "o", "a", "h", "am", "pm", "x", "eur", "usd",
    "kg", "g", "cm", "mm", "km", "l", "ml", "min", "s", "d",
}  # fmt: skip
# Sentences end at . ! ? before a space (not the dot of "12. März"), at 。！？؟ (CJK puts no
# space after them), or at a line break.
SENTENCE_END_RE = re.compile(r"(?<=[.!?])(?<!\s\d\.)(?<!\s\d\d\.)\s+|(?<=[。！？؟])\s*|\n+")
Date = tuple[int, int, int | None]  # day, month, year when written


def _canonical(token: str) -> str:
    return re.sub(r"[^0-9a-z]", "", token.lower())


def _latin_letters(token: str) -> str:
    return re.sub(r"[^a-zà-ÿ]", "", token.lower())


def _tokens(prepared: str) -> list[tuple[str, int, int]]:
    """(token, start, end) of every token with a digit; ends stripped of punctuation."""
    found = []
    for match in TOKEN_RE.finditer(token_text(prepared)):
        token = match.group(0).rstrip(TRAILING)
        if token:
            found.append((token, match.start(), match.start() + len(token)))
    return found


def _date_label(date: DateMention) -> str:
    year = f"-{date.year}" if date.year is not None else ""
    return f"date {date.day:02d}-{date.month:02d}{year}"


class FactIndex:
    """What the facts contain, in the forms a reply may legitimately rewrite them to.

    `locale` (a babel name, "de_DE") is how the reply and the facts write numbers and dates;
    None reads every way any locale would. `variants`: the language's other locales, when
    the customer's is not known (localized.style)."""

    def __init__(
        self, facts_text: str, locale: str | None = None, variants: tuple[str, ...] = ()
    ) -> None:
        self.locale = locale
        self.style: Style = style(locale, tuple(variants))
        text = prepare(PLACEHOLDER_RE.sub(" ", facts_text), self.style)
        tokens = [token for token, _, _ in _tokens(text)]
        self.canonical = {_canonical(t) for t in tokens}
        self.numbers: set[float] = set()
        self.runs: set[str] = set()  # numbers as written, for those with no reading
        for token in tokens:
            for run in NUMBER_RE.findall(token):
                self.numbers |= number_values(run, self.style)
                self.runs.add(_canonical(run))
        self.dates: set[Date] = {
            (d.day, d.month, d.year)
            for readings in date_mentions(text, self.style)
            for d in readings
        }

    def supports(self, token: str) -> bool:
        letters = _latin_letters(token)
        if letters and letters not in UNIT_LETTERS:
            # An id ("SG-10234", "1Z999AA10123456784"): only an exact match will do.
            return _canonical(token) in self.canonical
        # Numbers ("64,90", "3-5", "12:30"): each by its value; "6.490" is not "64,90".
        for run in NUMBER_RE.findall(token):
            values = number_values(run, self.style)
            if not (values & self.numbers if values else _canonical(run) in self.runs):
                return False
        return True

    def supports_date(self, date: DateMention) -> bool:
        return any(
            (day, month) == (date.day, date.month)
            and (date.year is None or year is None or year == date.year)
            for day, month, year in self.dates
        )


def violations(reply: str, facts: FactIndex, redactor: Redactor | None = None) -> list[str]:
    """What in `reply` the facts do not support; empty when the reply is grounded.

    Both texts are in redacted form: placeholders must be ones the redactor issued. The
    reply is read in the facts' locale (FactIndex.locale).
    """
    found: list[str] = []
    for match in PLACEHOLDER_RE.finditer(reply):
        if redactor is None or not redactor.issued(match.group(0)):
            found.append(match.group(0))
    text = prepare(PLACEHOLDER_RE.sub(" ", reply), facts.style)
    grounded_dates: list[tuple[int, int]] = []
    for readings in date_mentions(text, facts.style):
        if any(facts.supports_date(date) for date in readings):
            grounded_dates.append((readings[0].start, readings[0].end))
        else:
            found.append(_date_label(readings[0]))
    for token, start, end in _tokens(text):
        if any(s <= start and end <= e for s, e in grounded_dates):
            continue  # a part of a date the facts hold ("12" of "12/03/2026")
        if not facts.supports(token):
            found.append(token)
    return found


class GroundedStream:
    """Passes streamed text on a sentence at a time, each sentence checked before it is shown.

    A sentence that fails the check raises `on_violation`'s exception and nothing of it
    reaches the customer. Placeholders are restored as sentences are released. `check`, when
    given, also judges the text so far with the new sentence (e.g. its language): what it
    returns is a violation too.
    """

    def __init__(
        self,
        facts: FactIndex,
        redactor: Redactor,
        emit: Callable[[str], Awaitable[None] | None],
        on_violation: Callable[[list[str]], Exception],
        check: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.facts = facts
        self.redactor = redactor
        self.emit = emit
        self.on_violation = on_violation
        self.check = check
        self._buffer = ""
        self._checked = ""  # released so far, in redacted form
        self.released = ""

    async def feed(self, delta: str) -> None:
        self._buffer += delta
        parts = SENTENCE_END_RE.split(self._buffer)
        if len(parts) > 1:
            complete, self._buffer = self._buffer[: len(self._buffer) - len(parts[-1])], parts[-1]
            await self._release(complete)

    async def finish(self) -> None:
        rest, self._buffer = self._buffer, ""
        if rest:
            await self._release(rest)

    async def _release(self, text: str) -> None:
        bad = violations(text, self.facts, self.redactor)
        if not bad and self.check is not None:
            bad = self.check(self._checked + text)
        if bad:
            raise self.on_violation(bad)
        self._checked += text
        shown = self.redactor.restore(text)
        self.released += shown
        result = self.emit(shown)
        if result is not None:
            await result
