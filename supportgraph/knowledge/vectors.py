"""Passage vectors computed once and shipped with the help pages they belong to.

Embedding a section with e5 costs ~80 ms on one core, so a fresh data dir would spend ~40 s
embedding the demo shop's 490 sections before its first KB answer (and every test or eval run
that opens a new data dir would pay it). A KB folder may carry `vectors.npz` (embedding/keyed.py:
keyed by the exact passage text and the model). Regenerate after editing pages:

    python -m supportgraph.knowledge.vectors supportgraph/brands/demo/kb
"""

from __future__ import annotations

import sys
from pathlib import Path

from supportgraph.embedding.keyed import KeyedVectors, save

VECTORS_FILE = "vectors.npz"


def load(kb_dir: Path) -> KeyedVectors:
    from supportgraph.knowledge.multilingual import MODEL_ID

    return KeyedVectors.load(kb_dir / VECTORS_FILE, MODEL_ID)


def write(kb_dir: Path) -> int:
    """Embed every section of kb_dir and write its vectors file; the number of sections."""
    from supportgraph.knowledge.chunks import chunk_directory
    from supportgraph.knowledge.multilingual import MODEL_ID, embed_passages, passage_text

    passages = [passage_text(c.heading, c.text) for c in chunk_directory(kb_dir)]
    save(kb_dir / VECTORS_FILE, passages, embed_passages(passages), MODEL_ID, bits=16)
    return len(passages)


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        print(f"{folder}: {write(Path(folder))} sections")
