"""PII redaction before text reaches a model or a log, and restoration in what the customer sees.

One Redactor per turn: the same email always becomes the same placeholder ([EMAIL_1]), so
the model can still refer to it ("we sent it to [EMAIL_1]") and `restore` puts the real
value back in the reply. Facts (tool results) pass through the same Redactor, so the
grounding check compares redacted reply with redacted facts consistently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from supportgraph.nlu.entities import NOT_ORDER_PREFIXES, ORDER_ID_RE
from supportgraph.nlu.requests import parse_address

KINDS = ("EMAIL", "CARD", "PHONE", "ADDRESS", "ORDER", "NAME")
PLACEHOLDER_RE = re.compile(r"\[(" + "|".join(KINDS) + r")_(\d+)\]", re.IGNORECASE)

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 13-19 digits, optionally grouped by spaces or dashes; only Luhn-valid runs are cards.
CARD_RE = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")
PHONE_RE = re.compile(r"(?<![\w+-])(?:\+|00)?\d[\d ()./-]{6,}\d(?![\w-])")
# Digit groups that look like phone numbers but are dates: 2026-03-12, 12/03/2026, 12.03.2026.
DATE_LIKE_RE = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})$")
_CAP = r"[A-ZÀ-ÖØ-Ý][\w'’.-]*"
_ZIP_CITY = rf"(?:,?\s*\d{{4,5}}\s+{_CAP}(?:[ -]{_CAP})*)?"
ADDRESS_RES = [
    # 221B Baker Street, 12 Main St.
    re.compile(
        rf"\b\d{{1,5}}[A-Za-z]?\s+(?:{_CAP}\s+){{1,4}}(?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|"
        rf"Lane|Ln\.?|Drive|Dr\.?|Boulevard|Blvd\.?|Way|Court|Ct\.?|Place|Pl\.?|Square)"
        rf"(?![\w]){_ZIP_CITY}"
    ),
    # 12 rue de Rivoli, 5 bis avenue Foch
    re.compile(
        rf"\b\d{{1,5}}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|av\.|boulevard|bd|place|chemin|"
        rf"allée|impasse|quai)\s+(?:(?i:de|du|des|la|le|l'|l’|d'|d’)\s*)*{_CAP}"
        rf"(?:\s+{_CAP}){{0,3}}{_ZIP_CITY}"
    ),
    # Calle Mayor 5, Avenida de la Paz 12
    re.compile(
        rf"\b(?:Calle|C/|Avenida|Avda\.?|Plaza|Paseo|Camino|Carrer|Rua|Via)\s+"
        rf"(?:(?:de|del|la|los|las)\s+)*{_CAP}(?:\s+{_CAP}){{0,3}},?\s+"
        rf"(?:n[ºo°]\.?\s*)?\d{{1,5}}[A-Za-z]?\b{_ZIP_CITY}"
    ),
    # Hauptstraße 5, Lindenweg 12a
    re.compile(
        rf"\b[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer)"
        rf"\s+\d{{1,5}}[A-Za-z]?\b{_ZIP_CITY}"
    ),
]
# Fields of tool results that hold personal data whatever their text looks like.
FIELD_KINDS = {
    "email": "EMAIL",
    "phone": "PHONE",
    "line1": "ADDRESS",
    "line2": "ADDRESS",
    "street": "ADDRESS",
}


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@dataclass
class Redactor:
    """Replaces personal data with numbered placeholders and remembers how to restore them."""

    redact_order_ids: bool = False
    _placeholder_of: dict[tuple[str, str], str] = field(default_factory=dict)
    _value_of: dict[str, str] = field(default_factory=dict)
    _known: list[tuple[str, str]] = field(default_factory=list)

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, value.strip().lower())
        if key not in self._placeholder_of:
            count = sum(1 for k, _ in self._placeholder_of if k == kind) + 1
            token = f"[{kind}_{count}]"
            self._placeholder_of[key] = token
            self._value_of[token] = value.strip()
        return self._placeholder_of[key]

    def register(self, kind: str, value: str) -> None:
        """A value known to be personal (e.g. the verified customer's name), redacted wherever
        it appears even when no pattern would recognise it."""
        if value and value.strip():
            self._known.append((kind.upper(), value.strip()))
            self.placeholder(kind.upper(), value)

    @property
    def mapping(self) -> dict[str, str]:
        """placeholder -> original value."""
        return dict(self._value_of)

    def redact(self, text: str) -> str:
        for kind, value in sorted(self._known, key=lambda kv: -len(kv[1])):
            text = re.sub(re.escape(value), self.placeholder(kind, value), text, flags=re.I)
        text = EMAIL_RE.sub(self._replacer("EMAIL"), text)
        text = CARD_RE.sub(self._card, text)
        for pattern in ADDRESS_RES:
            text = pattern.sub(self._replacer("ADDRESS"), text)
        text = self._parsed_addresses(text)
        text = PHONE_RE.sub(self._phone, text)
        if self.redact_order_ids:
            text = ORDER_ID_RE.sub(self._order, text)
        return text

    def redact_value(self, value: Any, key: str | None = None) -> Any:
        """Redact every string inside dicts/lists; fields named like personal data entirely."""
        if isinstance(value, dict):
            return {k: self.redact_value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_value(v) for v in value]
        if isinstance(value, str):
            kind = FIELD_KINDS.get((key or "").lower())
            if kind and value.strip() and not PLACEHOLDER_RE.fullmatch(value.strip()):
                return self.placeholder(kind, value)
            return self.redact(value)
        return value

    def restore(self, text: str) -> str:
        """Put the real values back; placeholders this Redactor never issued stay as they are
        (the grounding check rejects replies that contain them)."""

        def real(match: re.Match[str]) -> str:
            token = f"[{match.group(1).upper()}_{match.group(2)}]"
            return self._value_of.get(token, match.group(0))

        return PLACEHOLDER_RE.sub(real, text)

    def restore_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.restore_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.restore_value(v) for v in value]
        if isinstance(value, str):
            return self.restore(value)
        return value

    def issued(self, token: str) -> bool:
        match = PLACEHOLDER_RE.fullmatch(token)
        return bool(match) and f"[{match.group(1).upper()}_{match.group(2)}]" in self._value_of  # type: ignore[union-attr]

    # --- pattern callbacks

    def _replacer(self, kind: str) -> Callable[[re.Match[str]], str]:
        return lambda match: self.placeholder(kind, match.group(0))

    def _card(self, match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return self.placeholder("CARD", match.group(0))
        return match.group(0)  # a long number that is not a card: maybe a phone number

    def _phone(self, match: re.Match[str]) -> str:
        raw = match.group(0).strip()
        digits = re.sub(r"\D", "", raw)
        international = raw.startswith(("+", "00"))
        if DATE_LIKE_RE.match(raw) or not (8 if international else 9) <= len(digits) <= 15:
            return match.group(0)
        return self.placeholder("PHONE", raw)

    def _order(self, match: re.Match[str]) -> str:
        if match.group(1).lower() in NOT_ORDER_PREFIXES:
            return match.group(0)
        return self.placeholder("ORDER", match.group(0))

    def _parsed_addresses(self, text: str) -> str:
        """Addresses in free form ('Unter den Linden 77, 10117 Berlin'), as the NLU reads them."""
        for _ in range(3):  # a message rarely holds more than a couple of addresses
            found = parse_address(text)
            if not found or found["line1"] not in text:
                break
            start = text.index(found["line1"])
            end = text.find(found["city"], start)
            if end < 0:
                break
            span = text[start : end + len(found["city"])]
            if PLACEHOLDER_RE.search(span):
                break
            text = text[:start] + self.placeholder("ADDRESS", span) + text[start + len(span) :]
        return text
