"""What exactly a customer asks for inside an intent (cancel vs change address...), and
addresses and countries written in a message. Multilingual keyword rules: small, explainable.

The words are data (supportgraph/nlu/vocab/<lang>.yaml, sections `requests` and `address`);
the address formats (zip + city, US state, UK postcode) are the same in every language.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from supportgraph.domain.text import normalize
from supportgraph.nlu.text import phrase_re
from supportgraph.nlu.vocab import Vocabulary, load_vocab


def _words_re(words: list[str]) -> re.Pattern[str]:
    return phrase_re([normalize(w) for w in words])


@dataclass(frozen=True)
class RequestWords:
    kinds: dict[str, re.Pattern[str]]  # request kind -> its words in every language
    country_phrases: dict[str, str]  # "united kingdom" -> GB: checked before single words
    country_words: dict[str, str]  # every word of every country name -> its code
    channels: dict[str, list[str]]  # contact channel -> its words (first channel named wins)
    languages_called: dict[str, list[str]]  # language code -> how customers name it
    lead_words: frozenset[str]
    street_particles: frozenset[str]
    particle_prefixes: tuple[str, ...]
    street_types: frozenset[str]

    @classmethod
    def from_vocab(cls, vocab: Vocabulary) -> RequestWords:
        countries = vocab.groups("requests", "countries")
        return cls(
            kinds={k: _words_re(ws) for k, ws in vocab.groups("requests", "kinds").items()},
            country_phrases={
                name: code for code, names in countries.items() for name in names if " " in name
            },
            country_words={
                word: code
                for code, names in countries.items()
                for name in names
                for word in name.split()
            },
            channels=vocab.groups("requests", "channels"),
            languages_called=vocab.by_language("detection", "called"),
            lead_words=frozenset(vocab.words("address", "lead_words")),
            street_particles=frozenset(vocab.words("address", "street_particles")),
            particle_prefixes=tuple(vocab.words("address", "particle_prefixes")),
            street_types=frozenset(vocab.words("address", "street_types")),
        )


@functools.lru_cache(maxsize=8)
def words_for(vocab: Vocabulary | None = None) -> RequestWords:
    return RequestWords.from_vocab(vocab or load_vocab())


def kinds(text: str, vocab: Vocabulary | None = None) -> set[str]:
    norm = normalize(text)
    return {kind for kind, pattern in words_for(vocab).kinds.items() if pattern.search(norm)}


def country(text: str, vocab: Vocabulary | None = None) -> str | None:
    words = words_for(vocab)
    norm = normalize(text)
    for phrase, code in words.country_phrases.items():
        if phrase in norm:
            return code
    for word in re.findall(r"[\w-]+", norm):
        if word in words.country_words:
            return words.country_words[word]
    return None


def channel(text: str, vocab: Vocabulary | None = None) -> str | None:
    norm = normalize(text)
    for name, words in words_for(vocab).channels.items():
        if any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", norm) for w in words):
            return name
    return None


def preferred_language(text: str, vocab: Vocabulary | None = None) -> str | None:
    norm = normalize(text)
    for code, words in words_for(vocab).languages_called.items():
        if any(w in norm.split() for w in words):
            return code
    return None


# Where an address ends: "zip City[, country]" (most of Europe), "City, ST 12345" (US) or
# "City POSTCODE" (UK). The street line is read backwards from there.
ZIP_CITY_RE = re.compile(
    r",?\s*(?P<zip>\d{4,5})\s+(?P<city>[A-ZÀ-Ý][\w'’-]+(?:[ -][A-ZÀ-Ý][\w'’-]+)*)"
    r"(?:\s*,\s*(?P<country>[A-Za-zÀ-ÿ -]+?))?\s*(?:[.!?]|$|\s)"
)
US_CITY_RE = re.compile(
    r",\s*(?P<city>[A-Z][\w'’.-]+(?:[ -][A-Z][\w'’.-]+)*)\s*,\s*(?P<state>[A-Z]{2})"
    r"\s+(?P<zip>\d{5}(?:-\d{4})?)(?![\w-])"
)
UK_CITY_RE = re.compile(
    r",\s*(?P<city>[A-Z][\w'’-]+(?:[ -][A-Z][\w'’-]+)*)"
    r"\s+(?P<zip>[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})(?![\w-])"
)
ADDRESS_ENDS = ((US_CITY_RE, "US"), (UK_CITY_RE, "GB"), (ZIP_CITY_RE, None))


def _bare(token: str) -> str:
    return token.strip(",.;:()\"'«»")


def _is_number(token: str) -> bool:
    bare = _bare(token)
    return bool(bare) and bare[0].isdigit()


def _is_name(token: str, *, after_number: bool, vocab: Vocabulary | None = None) -> bool:
    """A word of a street name: capitalised, a particle, or (after the house number) a street
    type written in lower case."""
    bare = _bare(token)
    if not bare or bare[0].isdigit():
        return False
    norm = normalize(bare)
    words = words_for(vocab)
    if bare[0].isupper():  # "Am Hof", "An der Alster": a capitalised particle starts a name
        return norm not in words.lead_words or norm in words.street_particles
    if norm in words.street_particles or norm.startswith(words.particle_prefixes):
        return True
    return after_number and norm in words.street_types


def street_line(before: str, vocab: Vocabulary | None = None) -> str | None:
    """The street line at the end of `before` (the text up to the zip/city), or None.

    'Rosenweg 77' / 'Calle de la Paz, 4' (name, then house number) and '12 rue de la Paix' /
    '221B Baker Street' (house number first) are read backwards from the end, stopping at the
    first word that cannot be part of a street name ('to', 'a', 'ist', 'pour', 'Adresse')."""
    before = before.rsplit(":", 1)[-1]
    spans = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", before)]
    while spans and not _bare(spans[-1][2]):
        spans.pop()
    if not spans:
        return None
    if _is_number(spans[-1][2]):  # name, then house number
        first = len(spans) - 1
        while first > 0 and _is_name(spans[first - 1][2], after_number=False, vocab=vocab):
            first -= 1
    else:  # house number, then name
        first = len(spans)
        while first > 0 and _is_name(spans[first - 1][2], after_number=True, vocab=vocab):
            first -= 1
        if first == 0 or not _is_number(spans[first - 1][2]):
            return None
        first -= 1
    street = spans[first:]
    # "a la Calle Mayor 5": a particle in lower case does not start a street line.
    while street and street[0][2][0].islower():
        street = street[1:]
    if not any(_bare(t)[:1].isalpha() for _, _, t in street):
        return None
    return before[street[0][0] : street[-1][1]].strip(" ,.;") or None


def parse_address(text: str, vocab: Vocabulary | None = None) -> dict[str, str] | None:
    """An address written inside a sentence ('please update my address to Rosenweg 77, 10117
    Berlin'), or None: the street line only, never the words that lead up to it."""
    for pattern, default_country in ADDRESS_ENDS:
        for match in pattern.finditer(text):
            line1 = street_line(text[: match.start()], vocab)
            if line1 is None:
                continue
            result = {
                "line1": line1,
                "zip": match.group("zip"),
                "city": match.group("city").strip(),
            }
            groups = match.groupdict()
            if groups.get("state"):
                result["state"] = groups["state"]
            code = country(groups["country"], vocab) if groups.get("country") else default_country
            if code:
                result["country"] = code
            return result
    return None
