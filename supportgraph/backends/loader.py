"""Reading a store file (the shop's customers, products and orders as JSON) into a Store.

Every backend is loaded from the same validated `Store`; a file that does not validate is
refused whole, with every problem naming the record and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from supportgraph.domain.schema import Store


class StoreFileError(ValueError):
    """A store file that does not validate: every problem names the record and the field."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: invalid store, nothing imported\n" + "\n".join(problems))
        self.problems = problems


def describe_errors(data: Any, errors: list[Any]) -> list[str]:
    """'orders[3] (id "SG-1"): status: Input should be ...' from pydantic's error locations."""
    problems = []
    for err in errors[:20]:
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(data, dict):
            records = data.get(str(loc[0])) or []
            record = records[loc[1]] if loc[1] < len(records) else {}
            rid = record.get("id") if isinstance(record, dict) else None
            field = ".".join(str(p) for p in loc[2:]) or "(record)"
            where = f"{loc[0]}[{loc[1]}]" + (f" (id {rid!r})" if rid else "") + f": {field}"
        problems.append(f"  {where}: {err['msg']}")
    return problems


def load_store_file(path: Path) -> Store:
    """Read and validate a store JSON file (or a directory of customers/products/orders.json)."""
    if path.is_dir():
        data: dict[str, object] = {}
        for part in ("customers", "products", "orders"):
            file = path / f"{part}.json"
            if file.exists():
                loaded = json.loads(file.read_text(encoding="utf-8"))
                data[part] = loaded[part] if isinstance(loaded, dict) else loaded
        meta = path / "store.json"
        if meta.exists():
            data = {**json.loads(meta.read_text(encoding="utf-8")), **data}
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
    try:
        return Store.model_validate(data)
    except ValidationError as exc:
        raise StoreFileError(path, describe_errors(data, exc.errors())) from exc
