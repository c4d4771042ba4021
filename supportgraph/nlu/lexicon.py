"""Confirmations, refusals, legal/fraud terms and requests for a person, in every language.

The words are data (supportgraph/nlu/vocab/<lang>.yaml, sections `confirmation` and
`escalation`); this module only knows how to match them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from supportgraph.domain.text import normalize
from supportgraph.nlu.vocab import Vocabulary, load_vocab

# Emoji say yes in every language.
YES_SYMBOLS = ("👍", "✅")
TOKEN_RE = re.compile(r"[\w']+|" + "|".join(YES_SYMBOLS))


def _phrase_re(terms: list[str]) -> re.Pattern[str]:
    # Longest first, so "identity theft" wins over "theft" at the same place (ties by text, so
    # the pattern is the same in every process).
    alternatives = sorted({normalize(t) for t in terms}, key=lambda a: (-len(a), a))
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(a) for a in alternatives) + r")(?!\w)")


@dataclass(frozen=True)
class Lexicon:
    yes: frozenset[str]
    yes_phrases: tuple[str, ...]
    no: frozenset[str]
    fillers: frozenset[str]  # politeness around a yes: "yes thanks", "that is correct"
    legal_re: re.Pattern[str]
    human_re: re.Pattern[str]
    other_agents_re: re.Pattern[str]

    @classmethod
    def from_vocab(cls, vocab: Vocabulary) -> Lexicon:
        return cls(
            yes=frozenset([*vocab.words("confirmation", "yes_words"), *YES_SYMBOLS]),
            yes_phrases=tuple(vocab.words("confirmation", "yes_phrases")),
            no=frozenset(vocab.words("confirmation", "no_words")),
            fillers=frozenset(vocab.words("confirmation", "fillers")),
            legal_re=_phrase_re(vocab.words("escalation", "legal_terms")),
            human_re=_phrase_re(vocab.words("escalation", "human_terms")),
            other_agents_re=_phrase_re(vocab.words("escalation", "other_agents")),
        )


@functools.lru_cache(maxsize=8)
def lexicon_for(vocab: Vocabulary | None = None) -> Lexicon:
    return Lexicon.from_vocab(vocab or load_vocab())


def legal_term(text: str, vocab: Vocabulary | None = None) -> str | None:
    match = lexicon_for(vocab).legal_re.search(normalize(text))
    return match.group(1) if match else None


def names_other_agent(text: str, vocab: Vocabulary | None = None) -> bool:
    """ "my travel agent", "agente inmobiliario": someone else's agent, not one of ours."""
    return lexicon_for(vocab).other_agents_re.search(normalize(text)) is not None


def asks_for_human(text: str, vocab: Vocabulary | None = None) -> bool:
    lex = lexicon_for(vocab)
    return lex.human_re.search(lex.other_agents_re.sub(" ", normalize(text))) is not None


def confirmation(text: str, vocab: Vocabulary | None = None) -> bool | None:
    """True for a clear yes, False for a clear no, None for anything else."""
    lex = lexicon_for(vocab)
    norm = normalize(text).strip(" .!¡¿?")
    if not norm:
        return None
    tokens = TOKEN_RE.findall(norm)
    if any(p in norm for p in lex.yes_phrases) and not any(t in lex.no for t in tokens):
        return True
    if (
        len(tokens) <= 4
        and tokens
        and all(t in lex.yes or t in lex.fillers for t in tokens)
        and any(t in lex.yes for t in tokens)
    ):
        return True
    if tokens and (tokens[0] in lex.no or (len(tokens) <= 4 and any(t in lex.no for t in tokens))):
        return False
    return None
