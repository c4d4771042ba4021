"""The KB index: sections stored with their e5 embeddings in an embedded Chroma collection,
searched per language by e5 similarity plus a BM25 bonus (knowledge/ranking.py).

Chroma persists the sections, their content hashes and embeddings (a reopened index embeds
nothing); a search loads one language's sections (tens) into memory once and ranks them
exactly, so a new process pays one small read per language it is asked in.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from supportgraph.knowledge.chunks import Chunk, chunk_directory
from supportgraph.knowledge.ranking import LanguageIndex, Section

# A new name for the e5 collection: one written by the WordLlama index ("supportgraph-kb",
# 256 dimensions) is left alone, and a data dir that has only that one ingests anew.
COLLECTION = "supportgraph-kb-e5"


@dataclass(frozen=True)
class Hit:
    id: str
    topic: str
    heading: str
    text: str
    # e5 cosine similarity plus a lexical bonus of at most 0.05 (knowledge/ranking.py):
    # higher is closer. In practice 0.75-0.97: e5 puts any two texts far above 0, an
    # off-topic question's best section included (~0.78-0.86).
    score: float


@dataclass(frozen=True)
class IngestReport:
    added: int
    updated: int
    removed: int
    unchanged: int


class KnowledgeBase:
    def __init__(self, persist_dir: Path) -> None:
        # Telemetry off before chromadb is imported: it must never phone home.
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        from supportgraph.knowledge.multilingual import E5Embedding

        persist_dir.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(persist_dir),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
        )
        self._collection = self._client.get_or_create_collection(
            COLLECTION,
            embedding_function=E5Embedding(),  # type: ignore[arg-type]
            metadata={"hnsw:space": "cosine"},
        )
        self._languages: dict[str, LanguageIndex] = {}
        self._lock = threading.Lock()

    def count(self) -> int:
        return int(self._collection.count())

    def ingest(self, kb_dir: Path) -> IngestReport:
        """Make the collection match kb_dir exactly; unchanged chunks are not re-embedded."""
        from supportgraph.knowledge import vectors
        from supportgraph.knowledge.multilingual import embed_passages, passage_text

        chunks = chunk_directory(kb_dir)
        existing = self._collection.get(include=["metadatas"])
        old_hash = {
            cid: (meta or {}).get("hash")
            for cid, meta in zip(existing["ids"], existing["metadatas"] or [], strict=False)
        }
        new_ids = {c.id for c in chunks}
        changed = [c for c in chunks if old_hash.get(c.id) != c.content_hash]
        removed = [cid for cid in old_hash if cid not in new_ids]
        if removed:
            self._collection.delete(ids=removed)
        if changed:
            passages = [passage_text(c.heading, c.text) for c in changed]
            self._collection.upsert(
                ids=[c.id for c in changed],
                documents=passages,
                # Vectors shipped with the pages are reused; only the others are embedded.
                embeddings=vectors.load(kb_dir).embed(passages, embed_passages),  # type: ignore[arg-type]
                metadatas=[metadata(c) for c in changed],
            )
        with self._lock:
            self._languages.clear()
        updated = sum(1 for c in changed if c.id in old_hash)
        return IngestReport(
            added=len(changed) - updated,
            updated=updated,
            removed=len(removed),
            unchanged=len(chunks) - len(changed),
        )

    def language_index(self, language: str) -> LanguageIndex:
        """The language's sections in memory (read once per process and ingest)."""
        with self._lock:
            index = self._languages.get(language)
        if index is not None:
            return index
        rows = self._collection.get(
            where={"language": language}, include=["metadatas", "embeddings"]
        )
        sections = [
            Section(
                id=cid,
                topic=str((meta or {}).get("topic", "")),
                heading=str((meta or {}).get("heading", "")),
                text=str((meta or {}).get("text", "")),
                vector=np.asarray(vector, dtype=np.float32),
            )
            for cid, meta, vector in zip(
                rows["ids"],
                rows["metadatas"] or [],
                rows["embeddings"] if rows["embeddings"] is not None else [],
                strict=True,
            )
        ]
        sections.sort(key=lambda s: s.id)
        index = LanguageIndex(sections)
        with self._lock:
            self._languages[language] = index
        return index

    def search(
        self, query: str, language: str, topics: list[str] | None = None, k: int = 3
    ) -> list[Hit]:
        from supportgraph.knowledge.multilingual import embed_query

        index = self.language_index(language)
        if not index.sections:
            return []
        ranked = index.rank(query, embed_query(query), topics)
        return [
            Hit(id=s.id, topic=s.topic, heading=s.heading, text=s.text, score=score)
            for s, score in ranked[:k]
        ]


def metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "language": chunk.language,
        "topic": chunk.topic,
        "heading": chunk.heading,
        "text": chunk.text,
        "hash": chunk.content_hash,
    }
