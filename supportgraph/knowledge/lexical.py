"""Okapi BM25 over a handful of documents (one language's KB sections), in plain Python.

A shop's KB is tens of sections per language: an inverted index in dicts scores a query in
well under a millisecond, so no search library is needed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

K1 = 1.2
B = 0.75


class BM25:
    def __init__(self, documents: Sequence[Sequence[str]], k1: float = K1, b: float = B) -> None:
        self.k1, self.b = k1, b
        self.size = len(documents)
        self.lengths = [len(doc) for doc in documents]
        self.average = (sum(self.lengths) / self.size) if self.size else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for index, doc in enumerate(documents):
            for term, count in Counter(doc).items():
                self.postings.setdefault(term, []).append((index, count))

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        return math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, query: Sequence[str]) -> list[float]:
        out = [0.0] * self.size
        for term in set(query):
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = self.idf(term)
            for index, tf in postings:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[index] / (self.average or 1))
                out[index] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out

    def share(self, query: Sequence[str]) -> list[float]:
        """Scores divided by what a document could at most score for this query (every
        query term, however rare, matched many times): 0 nothing in common, near 1 all."""
        upper = sum(self.idf(term) for term in set(query)) * (self.k1 + 1)
        return [score / upper for score in self.scores(query)] if upper else [0.0] * self.size
