"""One language's KB sections in memory, ranked for a question by e5 plus a BM25 bonus.

- Cosine similarity of multilingual e5 embeddings: paraphrases and other wordings in every
  language ("¿Cuánto cuesta el envío?" ~ "Gastos de envío").
- Plus LEXICAL_WEIGHT x the BM25 score as a share of the most the question could score
  (knowledge/lexical.py, on knowledge/tokens.py terms): exact words, names and codes
  (Klarna, Packstation, WELCOME10) anywhere in a section, beyond the part e5 embeds.

The bonus is small: the best sections' cosines lie within a few hundredths of each other,
so a full lexical match lifts a section past its close neighbours and no further. Fusing
the two by rank instead (reciprocal-rank fusion) let BM25's matches on "how", "do", "you"
outvote e5 ("how much do you charge for delivery?" -> "When is my card charged?"); the
scores keep BM25's own weighing of rare and common words (bench/kb_languages.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from supportgraph.knowledge.lexical import BM25
from supportgraph.knowledge.tokens import terms

SEMANTIC_WEIGHT = 1.0
LEXICAL_WEIGHT = 0.05
HEADING_REPEAT = 2  # the heading is phrased like a customer's question: its terms count twice


@dataclass(frozen=True)
class Section:
    id: str
    topic: str
    heading: str
    text: str
    vector: np.ndarray  # e5 passage embedding, unit length


def section_terms(heading: str, text: str) -> list[str]:
    return terms(heading) * HEADING_REPEAT + terms(text)


class LanguageIndex:
    def __init__(self, sections: Sequence[Section]) -> None:
        self.sections = list(sections)
        self.bm25 = BM25([section_terms(s.heading, s.text) for s in self.sections])
        self.matrix = (
            np.stack([s.vector for s in self.sections])
            if self.sections
            else np.zeros((0, 384), dtype=np.float32)
        )

    def rank(
        self,
        query: str,
        query_vector: np.ndarray | None,
        topics: Sequence[str] | None = None,
        lexical_weight: float = LEXICAL_WEIGHT,
        semantic_weight: float = SEMANTIC_WEIGHT,
    ) -> list[tuple[Section, float]]:
        """Sections best first with their score; only `topics` if given. A weight of 0 (or
        no query vector) leaves that ranker out: the bench compares each alone."""
        allowed = [i for i, s in enumerate(self.sections) if not topics or s.topic in topics]
        score = np.zeros(len(allowed), dtype=np.float64)
        if semantic_weight and query_vector is not None and allowed:
            score += semantic_weight * (self.matrix[allowed] @ query_vector)
        if lexical_weight and allowed:
            share = self.bm25.share(terms(query))
            score += lexical_weight * np.array([share[i] for i in allowed])
        order = np.argsort(-score, kind="stable")
        return [(self.sections[allowed[j]], float(score[j])) for j in order]
