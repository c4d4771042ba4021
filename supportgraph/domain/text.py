"""Text forms the domain compares in: lowercase, accents removed, whitespace collapsed.

The store matches customer names and variant options in this form, and the NLU matches its
lexicons in it, so both import it from here (the domain imports nothing above it).
"""

from __future__ import annotations

import unicodedata


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lowercase, accents removed, whitespace collapsed: the form lexicons match against."""
    return " ".join(strip_accents(text.lower()).split())
