"""Language folders: everything one language needs, as data, in `languages/<code>/`.

Adding a language is adding a folder (issue 16). Each file is optional; the parts of the
agent that use a kind of file read it from every folder that has one:

- `intents.json`: `{intent: [example, ...]}`, native training examples (nlu/intents.py);
- `background.json`: `[example, ...]`, everyday requests a shop does not handle
  (out_of_scope, nlu/intents.py);
- `fraud.json`: `{"fraud": [...], "not_fraud": [...]}` (nlu/fraud.py);
- `confirmations.json`, `vocab.yaml`, `templates.json`, `kb/`: written for the reply
  language, not read yet (docs/languages.md).

Each folder's README says who wrote its data and how (natively, never translated, never
from a test set).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LANGUAGES_DIR = Path(__file__).parent


def files(name: str) -> list[tuple[str, Path]]:
    """(language code, path) of every language folder that has a file called `name`."""
    return [
        (folder.name, folder / name)
        for folder in sorted(LANGUAGES_DIR.iterdir())
        if folder.is_dir() and (folder / name).is_file()
    ]


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
