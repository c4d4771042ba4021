"""Language folders: everything one language needs, as data, in `languages/<code>/`.

Adding a language is to be adding a folder (issue 16, docs/languages.md). The folders hold,
written natively and staged until the agent reads them:

- `intents.json`: `{intent: [example, ...]}`, training examples for the intent classifier;
- `background.json`: `[example, ...]`, everyday requests a shop does not handle (out_of_scope);
- `fraud.json`: `{"fraud": [...], "not_fraud": [...]}`;
- `confirmations.json`, `vocab.yaml`, `templates.json`, `kb/`: for the reply language.

Each folder's README says who wrote its data and how (natively, never translated, never from
a test set).
"""

from __future__ import annotations

from pathlib import Path

LANGUAGES_DIR = Path(__file__).parent
