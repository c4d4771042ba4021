"""Near-scope requests: another company's order, refund or booking is not ours to handle.

"My Amazon parcel is late" reads like order tracking, and "can I get a refund from Ryanair"
like a return; the words are shop words, the company is not the shop. A request that names
another company (nlu/data/other_companies.json, minus the brand's own names) and nothing of
our store is out of scope: the reply says which shop this is and what it can help with.
"""

from __future__ import annotations

import json
from pathlib import Path

from supportgraph.domain.text import normalize
from supportgraph.nlu.text import phrase_re

OTHER_COMPANIES_FILE = Path(__file__).parent / "data" / "other_companies.json"


class OtherCompanies:
    def __init__(self, names: list[str]) -> None:
        alternatives = sorted({normalize(n) for n in names if n.strip()}, key=len, reverse=True)
        self._re = phrase_re(alternatives) if alternatives else None

    @classmethod
    def load(cls, brand_dir: Path | None = None) -> OtherCompanies:
        """The bundled list without the names the brand calls its own (own_names.json)."""
        names: list[str] = json.loads(OTHER_COMPANIES_FILE.read_text(encoding="utf-8"))["names"]
        own_file = brand_dir / "own_names.json" if brand_dir else None
        if own_file is not None and own_file.exists():
            own = {normalize(n) for n in json.loads(own_file.read_text(encoding="utf-8"))}
            names = [n for n in names if normalize(n) not in own]
        return cls(names)

    def named(self, text: str) -> str | None:
        """The other company `text` names, or None."""
        if self._re is None:
            return None
        match = self._re.search(normalize(text))
        return match.group(1) if match else None
