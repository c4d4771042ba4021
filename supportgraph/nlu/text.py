"""Text helpers of the NLU modules (normalize, strip_accents: supportgraph.domain.text)."""

from __future__ import annotations

import re
import unicodedata

from supportgraph.domain.text import UNSPACED

WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)
# Scripts written without spaces (domain/text.py UNSPACED): their words start and end anywhere,
# so their letters never count as "a letter right next to a match". BEFORE/AFTER are the word
# boundaries every word list is matched with: "黑色" is found in "要黑色的" and "SG-10234" in
# "订单号SG-10234", while "cat" is still not found in "category".
BEFORE = rf"(?<![^\W{UNSPACED}])"
AFTER = rf"(?![^\W{UNSPACED}])"


def phrase_re(alternatives: list[str], *, literal: bool = True) -> re.Pattern[str]:
    """One pattern for a word list, as whole words: longest first, so "identity theft" wins
    over "theft" at the same place (ties by text: the same pattern in every process). Literal
    words are escaped; regular-expression fragments (`literal=False`) are grouped as they are."""
    ordered = sorted(set(alternatives), key=lambda a: (-len(a), a))
    body = "|".join(re.escape(a) if literal else f"(?:{a})" for a in ordered)
    return re.compile(f"{BEFORE}({body}){AFTER}")


# Things that carry no language signal and confuse detectors: ids, emails, urls, numbers.
NOISE_RE = re.compile(r"\S+@\S+|https?://\S+|#?\b[A-Za-z]{1,4}-?\d{3,}\b|\d+([.,]\d+)?", re.UNICODE)
CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def word_count(text: str) -> int:
    """Words as a reader counts them; CJK text has no spaces, so count characters / 2."""
    cjk = len(CJK_RE.findall(text))
    return len(words(CJK_RE.sub(" ", text))) + (cjk + 1) // 2


EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# What may name an order ("SG-10183", "#10183", "10183"); the entity rules say which it is.
REFERENCE_RE = re.compile(r"(?<![\w@.])#?[A-Za-z]{0,5}[-_]?\d{4,}(?![\w@])")
# Sentence ends in the served scripts (Latin, CJK full stops, Arabic question mark).
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？؟])\s*|\n+")


def request_part(text: str) -> str:
    """The message without the sentences that only give an e-mail address.

    "Please cancel my order. My e-mail is anna@example.com": the second sentence identifies
    the customer and says nothing of what they want, yet its e-mail words pull the reading
    towards account questions. A message that is all e-mail sentences is kept whole ("change
    my e-mail to new@example.com" is an account request).
    """
    sentences = [part for part in SENTENCE_END_RE.split(text) if part.strip()]
    kept = [part for part in sentences if not EMAIL_RE.search(part)]
    if len(kept) == len(sentences) or not any(has_text(part) for part in kept):
        return text
    # "Order SG-10183, my e-mail is ... When will it ship?": the order stays with the question.
    references = [
        ref for part in sentences if part not in kept for ref in REFERENCE_RE.findall(part)
    ]
    return " ".join([*references, *(part.strip() for part in kept)])


def clean_message(text: str) -> str:
    """Drop control characters and binary garbage, keep printable text and emoji."""
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\n\t ":
            kept.append(" ")
        elif cat.startswith("C"):  # control, format, surrogate, private use, unassigned
            continue
        else:
            kept.append(ch)
    return " ".join("".join(kept).split())


def has_text(text: str) -> bool:
    return any(ch.isalnum() for ch in text)
