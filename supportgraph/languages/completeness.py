"""What a served language must have, checked: the missing pieces of one language, by name.

A language is served when its folder has complete word lists and reply templates
(nlu/vocab `brand_reply_languages`). Serving it well takes more: every reply the agent can
give, enough intent examples for each intent, the shop's help pages on every topic and the
locale settings. `missing_pieces` lists what falls short, so a test (and a person adding a
language) sees it before a customer does.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

from supportgraph.languages import LANGUAGES_DIR

# The fallback language: every other language is compared with it.
REFERENCE = "en"
# Examples per intent below which the classifier reads a language poorly (the first four
# languages have 60+; the independent tests of new ones reached 90% with about 90).
MIN_EXAMPLES_PER_INTENT = 40
MIN_BACKGROUND_EXAMPLES = 100


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _sections(path: Path) -> int:
    return sum(
        1 for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("## ")
    )


def _base_examples(code: str) -> dict[str, int]:
    """Examples per intent of `code` in the base corpus (nlu/data), where en/es/fr/de live."""
    from supportgraph.nlu.intents import TRAIN_FILES

    counts: dict[str, int] = {}
    for path in TRAIN_FILES:
        if path.exists():
            for intent, by_lang in _json(path).items():
                counts[intent] = counts.get(intent, 0) + len(by_lang.get(code, []))
    return counts


def _background(code: str) -> int:
    from supportgraph.nlu.intents import BACKGROUND_FILE

    base = _json(BACKGROUND_FILE).get(code, []) if BACKGROUND_FILE.exists() else []
    return len(base)


def missing_pieces(code: str, kb_dir: Path, languages_dir: Path = LANGUAGES_DIR) -> list[str]:
    """Everything language `code` lacks to be served like the reference language."""
    from supportgraph.nlu.intents import INTENTS, REJECTED

    folder = languages_dir / code
    missing: list[str] = []
    for name in ("vocab.yaml", "templates.json", "locale.yaml"):
        if not (folder / name).is_file():
            missing.append(f"{code}/{name}")
    reference = _json(languages_dir / REFERENCE / "templates.json")
    if (folder / "templates.json").is_file():
        own = _json(folder / "templates.json")
        missing += [f"{code}/templates.json: key {key}" for key in reference if key not in own]
        missing += [
            f"{code}/templates.json: {key} needs {sorted(_placeholders(text))}"
            for key, text in reference.items()
            if key in own and _placeholders(own[key]) != _placeholders(text)
        ]
    examples = _base_examples(code)
    if (folder / "intents.json").is_file():
        for intent, texts in _json(folder / "intents.json").items():
            examples[intent] = examples.get(intent, 0) + len(texts)
    missing += [
        f"{code}: {examples.get(intent, 0)} examples of {intent} (at least "
        f"{MIN_EXAMPLES_PER_INTENT})"
        for intent in INTENTS
        if intent != REJECTED and examples.get(intent, 0) < MIN_EXAMPLES_PER_INTENT
    ]
    background = _background(code)
    if (folder / "background.json").is_file():
        background += len(_json(folder / "background.json"))
    if background < MIN_BACKGROUND_EXAMPLES:
        missing.append(
            f"{code}: {background} out-of-scope examples (at least {MIN_BACKGROUND_EXAMPLES})"
        )
    for page in sorted((kb_dir / REFERENCE).glob("*.md")):
        own_page = kb_dir / code / page.name
        if not own_page.is_file():
            missing.append(f"kb/{code}/{page.name}")
        elif _sections(own_page) != _sections(page):
            missing.append(
                f"kb/{code}/{page.name}: {_sections(own_page)} sections, {REFERENCE} has "
                f"{_sections(page)}"
            )
    return missing
