"""Fraud and account-security reports: unauthorised charges, lost or stolen cards, someone else
in the customer's account, phishing in the shop's name. Each is a critical handoff.

One word is rarely enough ("card", "charge" and "lost" are in ordinary payment questions too),
so the vocab files (section `fraud`) hold concepts and this module pairs them: a signal counts
when two concepts of one pair occur close together in the message. Signals strong on their own
("unauthorised", "phishing", "chargeback") are in `alone`. The words are data, per language;
the pairing is the same in every language.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from supportgraph.domain.text import normalize
from supportgraph.nlu.vocab import Vocabulary, load_vocab

# Concepts that make a report only together, and what the pair is called in the reason.
PAIRS = {
    "unrecognised_charge": ("money", "denial"),
    "card_lost_or_stolen": ("card", "card_loss"),
    "account_takeover": ("intruder", "access"),
    "phishing": ("lure", "secrets"),
}
# How close (in characters) the two halves of a pair must be: one clause or its neighbour.
PAIR_WINDOW = 80


def _patterns_re(fragments: list[str]) -> re.Pattern[str] | None:
    if not fragments:
        return None
    alternatives = sorted(set(fragments), key=lambda a: (-len(a), a))
    return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{a})" for a in alternatives) + r")(?!\w)")


@dataclass(frozen=True)
class FraudWords:
    alone: re.Pattern[str] | None
    concepts: dict[str, re.Pattern[str] | None]

    @classmethod
    def from_vocab(cls, vocab: Vocabulary) -> FraudWords:
        concepts = {name for pair in PAIRS.values() for name in pair}
        return cls(
            alone=_patterns_re(vocab.words("fraud", "alone")),
            concepts={c: _patterns_re(vocab.words("fraud", c)) for c in sorted(concepts)},
        )


@functools.lru_cache(maxsize=8)
def words_for(vocab: Vocabulary | None = None) -> FraudWords:
    return FraudWords.from_vocab(vocab or load_vocab())


def _spans(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)] if pattern else []


def _close(first: list[tuple[int, int]], second: list[tuple[int, int]]) -> bool:
    return any(
        max(a0, b0) - min(a1, b1) <= PAIR_WINDOW and (a0, a1) != (b0, b1)
        for a0, a1 in first
        for b0, b1 in second
    )


def fraud_signal(text: str, vocab: Vocabulary | None = None) -> str | None:
    """What kind of fraud or security report `text` is ("unrecognised_charge", the matched
    words for a strong signal...), or None for anything else."""
    words = words_for(vocab)
    norm = normalize(text)
    if words.alone is not None:
        match = words.alone.search(norm)
        if match:
            return match.group(0)
    spans = {name: _spans(pattern, norm) for name, pattern in words.concepts.items()}
    for kind, (first, second) in PAIRS.items():
        if spans[first] and spans[second] and _close(spans[first], spans[second]):
            return kind
    return None
