"""Vectors computed once and shipped beside the texts they belong to.

Embedding costs ~20 ms a text on one core, so a fresh data dir would spend minutes embedding
the intent examples (15k) and the demo KB's sections before its first answer. A vectors file
(`.npz`) holds each text's vector keyed by a hash of the exact text, its kind (query or
passage) and the model: a changed text, a new one or another model simply misses and is
embedded as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np


def text_key(text: str, model_id: str) -> str:
    return hashlib.sha256(f"{model_id}\0{text}".encode()).hexdigest()[:24]


class KeyedVectors:
    """Vectors of known texts; `embed` fills in the ones it does not know."""

    def __init__(self, known: dict[str, np.ndarray], model_id: str) -> None:
        self.known = known
        self.model_id = model_id

    @classmethod
    def load(cls, path: Path, model_id: str) -> KeyedVectors:
        if not path.is_file():
            return cls({}, model_id)
        with np.load(path) as data:
            keys = [str(k) for k in data["keys"]]
            vectors = data["vectors"].astype(np.float32)
            if "scales" in data:  # 8-bit rows, each with its own scale
                vectors *= data["scales"].astype(np.float32)[:, None]
        return cls(dict(zip(keys, vectors, strict=True)), model_id)

    def embed(self, texts: list[str], embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Every text's vector (one row each): known ones from the file, the rest by `embed`."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        keys = [text_key(t, self.model_id) for t in texts]
        missing = [i for i, key in enumerate(keys) if key not in self.known]
        fresh = embed([texts[i] for i in missing]) if missing else np.zeros((0, 0))
        found = {keys[i]: fresh[n] for n, i in enumerate(missing)}
        return np.vstack([self.known[key] if key in self.known else found[key] for key in keys])


def save(path: Path, texts: list[str], vectors: np.ndarray, model_id: str, *, bits: int) -> None:
    """Write a vectors file. 16 bits: half precision (cosine similarities move by <1e-3);
    8 bits: each row scaled to -127..127 (a quarter of the size; for features, not ranking)."""
    keys = np.array([text_key(t, model_id) for t in texts])
    if bits == 16:
        np.savez_compressed(path, keys=keys, vectors=vectors.astype(np.float16))
        return
    scales = np.abs(vectors).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    rows = np.round(vectors / scales[:, None]).astype(np.int8)
    np.savez_compressed(path, keys=keys, vectors=rows, scales=scales.astype(np.float32))
