"""Markdown documents -> chunks, one per '## ' section, with stable ids."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from supportgraph.domain.text import normalize


@dataclass(frozen=True)
class Chunk:
    id: str  # "<lang>/<topic>#<slug>": stable across re-ingests while the heading is unchanged
    language: str
    topic: str  # the document's file stem: shipping, returns, ...
    title: str
    heading: str
    text: str

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.heading}\n{self.text}".encode()).hexdigest()[:16]


# Letters and digits of scripts from Greek on (Cyrillic, Arabic, Devanagari, kana, CJK,
# Hangul) are kept: an Arabic or Japanese heading has nothing else to name its section.
# Latin headings keep only a-z and digits, so their ids stay what they have always been.
FIRST_NON_LATIN = 0x370


def _slug_char(char: str) -> str:
    if "a" <= char <= "z" or "0" <= char <= "9":
        return char
    return char if char.isalnum() and ord(char) >= FIRST_NON_LATIN else "-"


def slugify(text: str) -> str:
    slug = "".join(_slug_char(c) for c in normalize(text))
    return re.sub(r"-+", "-", slug).strip("-")[:60]


def chunk_markdown(text: str, language: str, topic: str) -> list[Chunk]:
    title = topic
    chunks: list[Chunk] = []
    heading: str | None = None
    body: list[str] = []

    def flush() -> None:
        if heading is not None and "".join(body).strip():
            chunks.append(
                Chunk(
                    id=f"{language}/{topic}#{slugify(heading)}",
                    language=language,
                    topic=topic,
                    title=title,
                    heading=heading,
                    text="\n".join(body).strip(),
                )
            )

    for line in text.splitlines():
        if line.startswith("# "):
            title = line[2:].strip()
        elif line.startswith("## "):
            flush()
            heading, body = line[3:].strip(), []
        else:
            body.append(line)
    flush()
    return chunks


def chunk_directory(kb_dir: Path) -> list[Chunk]:
    """kb_dir/<lang>/<topic>.md -> chunks, in a stable order."""
    chunks: list[Chunk] = []
    for lang_dir in sorted(p for p in kb_dir.iterdir() if p.is_dir()):
        for doc in sorted(lang_dir.glob("*.md")):
            chunks.extend(chunk_markdown(doc.read_text(encoding="utf-8"), lang_dir.name, doc.stem))
    seen: set[str] = set()
    for chunk in chunks:
        if chunk.id in seen:
            raise ValueError(f"duplicate KB section heading gives duplicate chunk id {chunk.id}")
        seen.add(chunk.id)
    return chunks
