"""Reading a platform's CSV export: named columns (with the spellings each platform version
uses), rows numbered as a spreadsheet shows them, and values parsed with a problem naming
file, row and column when they do not parse.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from supportgraph.backends.formats.base import Problems

# "1249.00", "-15.5", "1,249.00" (a spreadsheet's thousands separator).
NUMBER_RE = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
# Shopify writes "2026-10-02 14:03:11 -0400"; ISO 8601 is accepted too.
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M:%S")


def _key(header: str) -> str:
    return " ".join(header.strip().lower().split())


@dataclass(frozen=True)
class Row:
    """One record of a CSV file; `number` is the spreadsheet row (the header is row 1)."""

    file: Path
    number: int
    values: Mapping[str, str]  # column key -> raw value
    headers: Mapping[str, str]  # column key -> the header as written in the file

    def where(self, column: str | None = None) -> str:
        place = f"{self.file.name}, row {self.number}"
        if column is not None:
            place += f', column "{self.headers.get(column, column)}"'
        return place

    def text(self, column: str) -> str:
        return self.values.get(column, "").strip()

    def number_in(self, column: str, problems: Problems) -> float | None:
        raw = self.text(column)
        if not raw:
            return None
        if not NUMBER_RE.fullmatch(raw):
            problems.add(self.where(column), f"{raw!r} is not a number")
            return None
        return float(raw.replace(",", ""))

    def whole_number_in(self, column: str, problems: Problems) -> int | None:
        raw = self.text(column)
        if not raw:
            return None
        if not re.fullmatch(r"-?\d+", raw):
            problems.add(self.where(column), f"{raw!r} is not a whole number")
            return None
        return int(raw)

    def datetime_in(self, column: str, problems: Problems) -> str | None:
        """The value as an ISO 8601 datetime (its UTC offset kept), or None when blank."""
        raw = self.text(column)
        if not raw:
            return None
        for fmt in DATETIME_FORMATS:
            try:
                return dt.datetime.strptime(raw, fmt).isoformat()
            except ValueError:
                continue
        try:
            return dt.datetime.fromisoformat(raw).isoformat()
        except ValueError:
            problems.add(self.where(column), f"{raw!r} is not a date and time")
            return None


@dataclass(frozen=True)
class Table:
    file: Path
    rows: list[Row]


def read_table(
    file: Path,
    columns: Mapping[str, tuple[str, ...]],
    required: tuple[str, ...],
    problems: Problems,
) -> Table:
    """The rows of `file` with values under the canonical names of `columns` (each name maps
    to the header spellings it accepts, case and spacing ignored). A missing required column
    is a problem of row 1; the rows are read anyway so every problem is reported at once."""
    with file.open(encoding="utf-8-sig", newline="") as handle:
        records: Iterator[list[str]] = csv.reader(handle)
        header = next(records, None)
        if header is None:
            problems.add(f"{file.name}, row 1", "the file is empty (no header row)")
            return Table(file, [])
        position = {_key(h): i for i, h in reversed(list(enumerate(header)))}
        index: dict[str, int] = {}
        written: dict[str, str] = {}
        for name, spellings in columns.items():
            found = next((position[_key(s)] for s in spellings if _key(s) in position), None)
            if found is not None:
                index[name] = found
                written[name] = header[found].strip()
            else:
                written[name] = spellings[0]
        for name in required:
            if name not in index:
                problems.add(f"{file.name}, row 1", f'missing column "{columns[name][0]}"')
        rows = []
        for number, record in enumerate(records, start=2):
            if not any(cell.strip() for cell in record):
                continue  # a blank line, as spreadsheets leave at the end
            values = {name: record[i] if i < len(record) else "" for name, i in index.items()}
            rows.append(Row(file, number, values, written))
    return Table(file, rows)
