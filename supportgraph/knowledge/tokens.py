"""Terms for lexical matching in any script: word stems for spaced scripts, bigrams for CJK.

- Latin, Greek, Cyrillic...: lowercase, accents off, the word's first STEM letters, so
  "envío"/"envios" and "Versand"/"Versandkosten" meet without a per-language stemmer
  (Snowball stemmers scored the same on the dev questions: bench/kb_languages.py).
- Arabic: letter variants folded (أ/إ/آ -> ا, ى -> ي, ة -> ه), vowel marks and tatweel off,
  the article and the glued conjunction/prepositions before it (ال، وال، بال، لل...) off,
  then the same stem prefix: "الشحن" and "شحن" meet.
- Chinese and Japanese (no spaces): overlapping character pairs of each run of Han or kana
  ("运费多少" -> 运费 费多 多少), the usual dictionary-free way to index CJK; a lone
  character is kept whole.
"""

from __future__ import annotations

import re
import unicodedata

from supportgraph.domain.text import strip_accents

STEM = 5  # letters of a word kept as its stem

_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
)
_RUN = re.compile(rf"([{_CJK}]+)")
_TERM = re.compile(rf"[{_CJK}]+|[^\W_]+")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
_ARABIC_FOLD = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": None}
)
# Longest first: "وال" before "ال". A word keeps at least two letters after the cut.
_ARABIC_PREFIXES = ("وبال", "وال", "بال", "كال", "فال", "لل", "ال")


def fold(text: str) -> str:
    """NFKC (full-width letters and digits, half-width kana), lowercase, Arabic letter
    variants folded, accents and vowel marks off except on kana (が is not か)."""
    text = unicodedata.normalize("NFKC", text).lower()
    if _ARABIC_LETTER.search(text):
        text = text.translate(_ARABIC_FOLD)
    return "".join(
        part if index % 2 else strip_accents(part) for index, part in enumerate(_RUN.split(text))
    )


def _arabic_stem(word: str) -> str:
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    return word[:STEM]


def terms(text: str) -> list[str]:
    out: list[str] = []
    for match in _TERM.finditer(fold(text)):
        word = match.group()
        if _RUN.fullmatch(word):
            out.extend(
                [word] if len(word) == 1 else [word[i : i + 2] for i in range(len(word) - 1)]
            )
        elif _ARABIC_LETTER.match(word):
            out.append(_arabic_stem(word))
        else:
            out.append(word[:STEM])
    return out
