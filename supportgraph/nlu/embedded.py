"""What a message means as multilingual-e5-small reads it: the full intent model's third block
of features, beside its character and word n-grams.

The n-grams know the words of the examples; e5 knows words no example used and carries what the
other nine languages' examples taught across to each language (5-fold CV on the training
examples, bench/intent_model_cv.py: 83.0% -> 87.7% mean accuracy over the languages the folders
add, Arabic 82.7 -> 86.2, Chinese 84.9 -> 89.4, Dutch 83.8 -> 88.8). It costs one e5 call
(~20 ms) a message, so only the full model uses it; the base model stays as it was.

The fraud model that reads the same languages uses the same pipeline (nlu/fraud.py).

The training examples' vectors ship in nlu/data/example_vectors.npz (embedding/keyed.py), so a
fresh data dir fits the model in seconds instead of embedding 15k examples (~4 minutes).
Regenerate after changing the examples (a unit test fails until you do):

    python -m supportgraph.nlu.embedded
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from supportgraph.embedding.keyed import KeyedVectors, save

VECTORS_FILE = Path(__file__).parent / "data" / "example_vectors.npz"
MODEL_ID = "multilingual-e5-small-q4/query"


@functools.lru_cache(maxsize=1)
def shipped() -> KeyedVectors:
    return KeyedVectors.load(VECTORS_FILE, MODEL_ID)


def _embed(texts: list[str]) -> np.ndarray:
    from supportgraph.embedding.e5 import embed_queries

    return embed_queries(texts)


class E5Features:
    """A scikit-learn feature block: each raw text as its e5 query vector (one sparse row, so
    it stacks with the n-gram blocks). Holds nothing fitted: it pickles as a name."""

    def fit(self, texts: list[str], y: Any = None) -> E5Features:
        return self

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        if len(texts) == 1:
            # A turn's message: embedded (the KB search of the same text reuses it), without
            # reading the training examples' vectors (25 MB in memory) into a serving process.
            from supportgraph.embedding.e5 import embed_query

            return sp.csr_matrix(embed_query(texts[0]).reshape(1, -1))
        return sp.csr_matrix(shipped().embed(list(texts), _embed))

    def fit_transform(self, texts: list[str], y: Any = None) -> sp.csr_matrix:
        return self.transform(texts)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}

    def set_params(self, **params: Any) -> E5Features:
        return self


def training_texts() -> set[str]:
    """Every text a model that reads e5 is fitted on: the intent examples (the full intent
    model) and the fraud reports (the full fraud model, nlu/fraud.py)."""
    from supportgraph.nlu.fraud import training_set
    from supportgraph.nlu.intents import read_examples

    return set(read_examples().texts) | set(training_set()[0])


def write() -> int:
    """Embed every training example and write the vectors file; the number of examples."""
    from supportgraph.embedding.e5 import embed_queries

    def batches(texts: list[str]) -> np.ndarray:
        return np.vstack([embed_queries(texts[i : i + 256]) for i in range(0, len(texts), 256)])

    texts = sorted(training_texts())
    # Vectors already in the file are kept (e5 gives a text the same vector every time).
    save(VECTORS_FILE, texts, shipped().embed(texts, batches), MODEL_ID, bits=8)
    return len(texts)


if __name__ == "__main__":
    print(f"{VECTORS_FILE}: {write()} examples")
