"""A served language is complete, or a test names what it lacks; a tenth language is data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from supportgraph.config import DEMO_BRAND_DIR, Settings
from supportgraph.languages import LANGUAGES_DIR
from supportgraph.languages.completeness import missing_pieces
from supportgraph.nlu.vocab import load_vocab

KB = DEMO_BRAND_DIR / "kb"
SERVED = Settings().reply_languages


def test_the_demo_shop_serves_ten_languages() -> None:
    assert set(SERVED) == {"en", "es", "fr", "de", "it", "pt", "zh", "ja", "ar", "nl"}


@pytest.mark.parametrize("code", SERVED)
def test_every_served_language_has_every_piece(code: str) -> None:
    assert missing_pieces(code, KB) == []


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    """A copy of the shipped language folders and the demo shop's KB, to break."""
    copy = tmp_path / "languages"
    shutil.copytree(LANGUAGES_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(KB, tmp_path / "kb")
    return tmp_path


def test_a_missing_template_key_intent_examples_or_kb_topic_is_named(folders: Path) -> None:
    languages, kb = folders / "languages", folders / "kb"
    templates = json.loads((languages / "nl" / "templates.json").read_text(encoding="utf-8"))
    del templates["done.cancel_order"]
    templates["status.shipped"] = "verzonden {oops}"
    (languages / "nl" / "templates.json").write_text(json.dumps(templates), encoding="utf-8")
    intents = json.loads((languages / "nl" / "intents.json").read_text(encoding="utf-8"))
    intents["payment"] = intents["payment"][:5]
    (languages / "nl" / "intents.json").write_text(json.dumps(intents), encoding="utf-8")
    (kb / "nl" / "warranty.md").unlink()

    missing = missing_pieces("nl", kb, languages)
    assert "nl/templates.json: key done.cancel_order" in missing
    assert any(m.startswith("nl/templates.json: status.shipped needs") for m in missing)
    assert "nl: 5 examples of payment (at least 40)" in missing
    assert "kb/nl/warranty.md" in missing
    assert missing_pieces("de", kb, languages) == []


def test_dutch_is_served_from_its_folder_alone() -> None:
    # The tenth language was added as data: its folder (word lists, examples, templates,
    # locale) and the shop's help pages in it; no detect-only stub is left behind.
    folder = LANGUAGES_DIR / "nl"
    assert {p.name for p in folder.iterdir()} >= {
        "vocab.yaml",
        "intents.json",
        "background.json",
        "fraud.json",
        "templates.json",
        "locale.yaml",
    }
    assert not (Path(load_vocab().directory).parent / "nlu" / "vocab" / "nl.yaml").exists()
    assert len(list((KB / "nl").glob("*.md"))) == len(list((KB / "en").glob("*.md")))
