"""Confirmations, refusals, legal/fraud terms and requests for a person, in every language.

The words are data (supportgraph/nlu/vocab/<lang>.yaml, sections `confirmation` and
`escalation`); this module only knows how to match them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from supportgraph.domain.text import UNSPACED_RE, normalize
from supportgraph.nlu.text import phrase_re, word_count
from supportgraph.nlu.vocab import Vocabulary, load_vocab

# Emoji say yes in every language.
YES_SYMBOLS = ("👍", "✅")
TOKEN_RE = re.compile(r"[\w']+|" + "|".join(YES_SYMBOLS))
# A reply in Chinese or Japanese this long (characters / 2) is still an answer to yes-or-no.
UNSPACED_ANSWER_WORDS = 12


def _phrase_re(terms: list[str]) -> re.Pattern[str]:
    return phrase_re([normalize(t) for t in terms])


@dataclass(frozen=True)
class Lexicon:
    yes: frozenset[str]
    yes_phrases: tuple[str, ...]
    no: frozenset[str]
    fillers: frozenset[str]  # politeness around a yes: "yes thanks", "that is correct"
    yes_re: re.Pattern[str]  # yes words and phrases anywhere (text without spaces)
    no_re: re.Pattern[str]
    legal_re: re.Pattern[str]
    human_re: re.Pattern[str]
    other_agents_re: re.Pattern[str]

    @classmethod
    def from_vocab(cls, vocab: Vocabulary) -> Lexicon:
        return cls(
            yes=frozenset([*vocab.words("confirmation", "yes_words"), *YES_SYMBOLS]),
            yes_phrases=tuple(normalize(p) for p in vocab.words("confirmation", "yes_phrases")),
            no=frozenset(vocab.words("confirmation", "no_words")),
            fillers=frozenset(vocab.words("confirmation", "fillers")),
            yes_re=_phrase_re(
                [
                    *vocab.words("confirmation", "yes_words"),
                    *vocab.words("confirmation", "yes_phrases"),
                ]
            ),
            no_re=_phrase_re(vocab.words("confirmation", "no_words")),
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
    if UNSPACED_RE.search(norm) and word_count(norm) <= UNSPACED_ANSWER_WORDS:
        # "先别取消", "はい、お願いします": no spaces between the words, so look for the
        # answer's words anywhere in a short reply; a "no" word wins ("まだ取り消さないで").
        if lex.no_re.search(norm):
            return False
        if lex.yes_re.search(norm):
            return True
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
