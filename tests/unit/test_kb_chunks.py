"""KB section ids: stable for Latin headings, and meaningful in every script (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportgraph.knowledge.chunks import chunk_markdown, slugify

KB = Path(__file__).resolve().parents[2] / "supportgraph" / "brands" / "demo" / "kb"


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("How long does shipping take?", "how-long-does-shipping-take"),
        ("Größentabelle für Schuhe", "gro-entabelle-fur-schuhe"),  # as it always was
        ("كم تستغرق مدة الشحن؟", "كم-تستغرق-مدة-الشحن"),
        ("送料はいくらですか？", "送料はいくらですか"),
        ("运费多少钱？", "运费多少钱"),
    ],
)
def test_a_heading_names_its_section_in_any_script(heading: str, slug: str) -> None:
    assert slugify(heading) == slug


@pytest.mark.parametrize("language", ["it", "pt", "zh", "ja", "ar"])
def test_every_section_of_a_new_languages_kb_has_its_own_id(language: str) -> None:
    ids = [
        chunk.id
        for path in sorted((KB / language).glob("*.md"))
        for chunk in chunk_markdown(path.read_text(encoding="utf-8"), language, path.stem)
    ]
    assert len(ids) >= 40 and len(ids) == len(set(ids))
    assert not any(chunk_id.endswith("#") for chunk_id in ids)
