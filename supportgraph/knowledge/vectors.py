"""Passage vectors computed once and shipped with the help pages they belong to.

Embedding a section with e5 costs ~80 ms on one core, so a fresh data dir would spend ~40 s
embedding the demo shop's 490 sections before its first KB answer (and every test or eval run
that opens a new data dir would pay it). A KB folder may carry `vectors.npz`: each section's
vector keyed by a hash of the exact passage text and the model, so a changed section, a new
page or another model simply misses and is embedded as before. Regenerate after editing pages:

    python -m supportgraph.knowledge.vectors supportgraph/brands/demo/kb
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

VECTORS_FILE = "vectors.npz"


def passage_key(passage: str, model_id: str) -> str:
    return hashlib.sha256(f"{model_id}\0{passage}".encode()).hexdigest()[:24]


class PassageVectors:
    """Vectors of known passages; `embed` fills in the ones it does not know."""

    def __init__(self, known: dict[str, np.ndarray]) -> None:
        self.known = known

    @classmethod
    def load(cls, kb_dir: Path) -> PassageVectors:
        path = kb_dir / VECTORS_FILE
        if not path.is_file():
            return cls({})
        with np.load(path) as data:
            keys = [str(k) for k in data["keys"]]
            vectors = data["vectors"].astype(np.float32)
        return cls(dict(zip(keys, vectors, strict=True)))

    def embed(self, passages: list[str], model_id: str) -> list[np.ndarray]:
        from supportgraph.knowledge.multilingual import embed_passages

        keys = [passage_key(p, model_id) for p in passages]
        missing = [i for i, key in enumerate(keys) if key not in self.known]
        fresh = embed_passages([passages[i] for i in missing])
        found = {keys[i]: fresh[n] for n, i in enumerate(missing)}
        return [self.known.get(key, found.get(key)) for key in keys]  # type: ignore[misc]


def write(kb_dir: Path) -> int:
    """Embed every section of kb_dir and write its vectors file; the number of sections."""
    from supportgraph.knowledge.chunks import chunk_directory
    from supportgraph.knowledge.multilingual import MODEL_ID, embed_passages, passage_text

    passages = [passage_text(c.heading, c.text) for c in chunk_directory(kb_dir)]
    vectors = embed_passages(passages)
    np.savez_compressed(
        kb_dir / VECTORS_FILE,
        keys=np.array([passage_key(p, MODEL_ID) for p in passages]),
        # Half precision: cosine similarities move by <1e-3, the file is half the size.
        vectors=vectors.astype(np.float16),
    )
    return len(passages)


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        print(f"{folder}: {write(Path(folder))} sections")
