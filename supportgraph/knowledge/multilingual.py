"""The KB's embedding: multilingual-e5-small (supportgraph/embedding/e5.py) reading the start of
each section, registered with Chroma under a name, so a persisted collection reopens in a new
process with the same function (Chroma's default would download an ONNX model and fail
offline).
"""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from supportgraph.embedding.e5 import embed_passages, embed_query, model

__all__ = ["MODEL_ID", "PASSAGE_TOKENS", "E5Embedding", "embed_passages", "embed_query"]

# A section is embedded from its heading and the start of its text, up to this many
# tokens: a section's first lines say what it is about, and each token costs ~1 ms to
# embed on one core (the whole text scored no better on the dev questions, at 3x the time).
PASSAGE_TOKENS = 48

# What a passage vector depends on besides its text (knowledge/vectors.py keys on it): the
# model and how much of a section it reads.
MODEL_ID = f"multilingual-e5-small-q4/{PASSAGE_TOKENS}"


def passage_text(heading: str, text: str, budget: int = PASSAGE_TOKENS) -> str:
    """The heading and as much of the text as fits in `budget` tokens (cut by characters:
    the longest prefix that fits, so CJK text without spaces is cut as well as words)."""
    passage = f"{heading}\n{text}"
    e5 = model()
    if e5.token_count(passage) <= budget:
        return passage
    low, high = len(heading), len(passage)
    while low < high:
        middle = (low + high + 1) // 2
        if e5.token_count(passage[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return passage[:low]


@register_embedding_function
class E5Embedding(EmbeddingFunction[Documents]):
    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return [embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "supportgraph-e5"

    def get_config(self) -> dict[str, Any]:
        return {"passage_tokens": PASSAGE_TOKENS}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> E5Embedding:
        return E5Embedding()

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"
