"""The KB index: an embedded Chroma PersistentClient collection, filtered by language."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supportgraph.domain.text import normalize
from supportgraph.knowledge.chunks import Chunk, chunk_directory

COLLECTION = "supportgraph-kb"
RERANK_POOL = 6
HEADING_WEIGHT = 0.5


@dataclass(frozen=True)
class Hit:
    id: str
    topic: str
    heading: str
    text: str
    score: float  # cosine similarity, higher is closer


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

        from supportgraph.knowledge.embedding import WordLlamaEmbedding

        persist_dir.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(persist_dir),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
        )
        self._collection = self._client.get_or_create_collection(
            COLLECTION,
            embedding_function=WordLlamaEmbedding(),  # type: ignore[arg-type]
            metadata={"hnsw:space": "cosine"},
        )

    def count(self) -> int:
        return int(self._collection.count())

    def ingest(self, kb_dir: Path) -> IngestReport:
        """Make the collection match kb_dir exactly; unchanged chunks are not re-embedded."""
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
            self._collection.upsert(
                ids=[c.id for c in changed],
                documents=[embed_text(c) for c in changed],
                metadatas=[metadata(c) for c in changed],
            )
        updated = sum(1 for c in changed if c.id in old_hash)
        return IngestReport(
            added=len(changed) - updated,
            updated=updated,
            removed=len(removed),
            unchanged=len(chunks) - len(changed),
        )

    def search(
        self, query: str, language: str, topics: list[str] | None = None, k: int = 3
    ) -> list[Hit]:
        where: dict[str, Any] = {"language": language}
        if topics:
            where = {"$and": [where, {"topic": {"$in": topics}}]}
        result = self._collection.query(
            query_texts=[query],
            n_results=max(k, RERANK_POOL),
            where=where,
            include=["metadatas", "distances"],
        )
        hits = []
        for cid, meta, dist in zip(
            result["ids"][0],
            (result["metadatas"] or [[]])[0],
            (result["distances"] or [[]])[0],
            strict=False,
        ):
            meta = meta or {}
            hits.append(
                Hit(
                    id=cid,
                    topic=str(meta.get("topic", "")),
                    heading=str(meta.get("heading", "")),
                    text=str(meta.get("text", "")),
                    score=1.0 - float(dist),
                )
            )
        # WordLlama is English-leaning: rerank the pool with word-stem overlap between the
        # question and the section heading, which works the same in every language.
        query_stems = stems(query)
        hits.sort(key=lambda h: -(h.score + HEADING_WEIGHT * overlap(query_stems, h.heading)))
        return hits[:k]


def stems(text: str) -> set[str]:
    return {w[:4] for w in re.findall(r"\w+", normalize(text)) if len(w) > 3}


def overlap(query_stems: set[str], heading: str) -> float:
    if not query_stems:
        return 0.0
    return len(query_stems & stems(heading)) / len(query_stems)


def embed_text(chunk: Chunk) -> str:
    # The heading is phrased like a customer question: weigh it by repeating it.
    return f"{chunk.heading}. {chunk.heading}. {chunk.text}"


def metadata(chunk: Chunk) -> dict[str, str]:
    return {
        "language": chunk.language,
        "topic": chunk.topic,
        "heading": chunk.heading,
        "text": chunk.text,
        "hash": chunk.content_hash,
    }
