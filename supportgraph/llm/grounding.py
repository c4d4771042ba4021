"""Grounding check: the numbers, ids, dates and amounts of a model's reply must come from facts.

A model phrasing "your order ships on March 3" when the facts say March 12 is worse than a
stiff template, so any such token that the facts do not contain rejects the reply (the
caller then uses the template). Comparison is on meaning, not spelling: "59.90" matches
"59,90 €", "March 12" matches "2026-03-12", "SG-10234" must match an id in the facts.
Numbers written as words are not checked (a known limit).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from supportgraph.llm.pii import PLACEHOLDER_RE, Redactor

TOKEN_RE = re.compile(r"(?:[\w#]+-)?[\w#]*\d[\w.,:/#-]*")
DIGITS_RE = re.compile(r"\d+")
# Letters next to digits that do not make an id: units, ordinals, currency, times.
UNIT_LETTERS = {
    "st", "nd", "rd", "th", "er", "e", "eme", "o", "a", "h", "am", "pm", "x", "eur", "usd",
    "kg", "g", "cm", "mm", "km", "l", "ml", "min", "s", "d",
}  # fmt: skip
MONTHS = {
    name: number
    for number, names in enumerate(
        [
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
        ],
        start=1,
    )
    for name in names.split()
}
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
DAY_MONTH_RE = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:de\s+)?({_MONTH_ALT})\b\.?", re.IGNORECASE
)
MONTH_DAY_RE = re.compile(rf"\b({_MONTH_ALT})\.?\s+(\d{{1,2}})(?!\d)", re.IGNORECASE)
ISO_DATE_RE = re.compile(r"\b\d{4}-(\d{1,2})-(\d{1,2})\b")
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+|\n+")


def _canonical(token: str) -> str:
    return re.sub(r"[^0-9a-z]", "", token.lower())


def _digit_runs(token: str) -> set[str]:
    return {run.lstrip("0") or "0" for run in DIGITS_RE.findall(token)}


def _numbers(token: str) -> set[float]:
    """The values a numeric token may mean ("1.234" is 1234 in German, 1.234 in English)."""
    core = token.strip(".,:/-")
    if not re.fullmatch(r"\d[\d.,]*", core):
        return set()
    values: set[float] = set()
    for decimal in (".", ","):
        thousands = "," if decimal == "." else "."
        text = core.replace(thousands, "").replace(decimal, ".")
        try:
            values.add(round(float(text), 4))
        except ValueError:
            continue
    return values


def _dates(text: str) -> set[tuple[int, int]]:
    """(day, month) pairs written in the text, in ISO or with a month name."""
    pairs = {(int(d), int(m)) for m, d in ISO_DATE_RE.findall(text)}
    pairs |= {(int(d), MONTHS[m.lower()]) for d, m in DAY_MONTH_RE.findall(text)}
    pairs |= {(int(d), MONTHS[m.lower()]) for m, d in MONTH_DAY_RE.findall(text)}
    return pairs


class FactIndex:
    """What the facts contain, in the forms a reply may legitimately rewrite them to."""

    def __init__(self, facts_text: str) -> None:
        text = PLACEHOLDER_RE.sub(" ", facts_text)
        tokens = [t.rstrip(".,:/-") for t in TOKEN_RE.findall(text)]
        self.canonical = {_canonical(t) for t in tokens}
        self.digit_runs = set().union(*(_digit_runs(t) for t in tokens)) if tokens else set()
        self.numbers = set().union(*(_numbers(t) for t in tokens)) if tokens else set()
        self.dates = _dates(text)

    def supports(self, token: str) -> bool:
        if _canonical(token) in self.canonical:
            return True
        letters = re.sub(r"[^a-zà-ÿ]", "", token.lower())
        if letters and letters not in UNIT_LETTERS:
            return False  # an id ("SG-99999"): only an exact match will do
        if _numbers(token) & self.numbers:
            return True
        return _digit_runs(token) <= self.digit_runs


def violations(reply: str, facts: FactIndex, redactor: Redactor | None = None) -> list[str]:
    """What in `reply` the facts do not support; empty when the reply is grounded.

    Both texts are in redacted form: placeholders must be ones the redactor issued.
    """
    found: list[str] = []
    for match in PLACEHOLDER_RE.finditer(reply):
        if redactor is None or not redactor.issued(match.group(0)):
            found.append(match.group(0))
    text = PLACEHOLDER_RE.sub(" ", reply)
    for day, month in _dates(text):
        if (day, month) not in facts.dates:
            found.append(f"date {day:02d}-{month:02d}")
    for raw in TOKEN_RE.findall(text):
        token = raw.rstrip(".,:/-")
        if token and not facts.supports(token):
            found.append(token)
    return found


class GroundedStream:
    """Passes streamed text on a sentence at a time, each sentence checked before it is shown.

    A sentence that fails the check raises `on_violation`'s exception and nothing of it
    reaches the customer. Placeholders are restored as sentences are released.
    """

    def __init__(
        self,
        facts: FactIndex,
        redactor: Redactor,
        emit: Callable[[str], Awaitable[None] | None],
        on_violation: Callable[[list[str]], Exception],
    ) -> None:
        self.facts = facts
        self.redactor = redactor
        self.emit = emit
        self.on_violation = on_violation
        self._buffer = ""
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
        if bad:
            raise self.on_violation(bad)
        shown = self.redactor.restore(text)
        self.released += shown
        result = self.emit(shown)
        if result is not None:
            await result
