"""Text forms the domain compares in: lowercase, accents removed, whitespace collapsed.

The store matches customer names and variant options in this form, and the NLU matches its
lexicons in it, so both import it from here (the domain imports nothing above it).
"""

from __future__ import annotations

import re
import unicodedata

# Scripts written without spaces: kana, CJK ideographs, half-width kana.
UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
UNSPACED_RE = re.compile(f"[{UNSPACED}]")

# Kana voicing marks decompose like accents (が = か + U+3099) but change the word: kept.
KANA_MARKS = frozenset("\u3099\u309a")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c) or c in KANA_MARKS)
    return unicodedata.normalize("NFC", kept) if KANA_MARKS & set(kept) else kept


def plain_forms(text: str) -> str:
    """Full-width letters and digits as ASCII (ＳＧ－１０５８７ -> SG-10587), every decimal digit
    as 0-9 (Eastern Arabic ١٠٥٨٧, Devanagari, ...): how an IME or a phone keyboard writes an order
    id, a size or a postcode is not part of what it says."""
    folded = unicodedata.normalize("NFKC", text)
    if folded.isascii():
        return folded
    return "".join(
        str(unicodedata.decimal(c))
        if not c.isascii() and unicodedata.decimal(c, None) is not None
        else c
        for c in folded
    )


def normalize(text: str) -> str:
    """Lowercase, accents removed, whitespace collapsed: the form lexicons match against."""
    return " ".join(strip_accents(text.lower()).split())
