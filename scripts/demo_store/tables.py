"""The generator's tables (``data/*.yaml``) and the one format their patterns use."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"


@cache
def table(name: str) -> dict[str, Any]:
    """``data/<name>.yaml``. Shared between calls: callers copy what they put in the store."""
    with (DATA / f"{name}.yaml").open(encoding="utf-8") as file:
        loaded: dict[str, Any] = yaml.safe_load(file)
    return loaded


def fill(rng: random.Random, pattern: str, letters: str = "") -> str:
    """A string drawn from ``pattern``, left to right: ``#`` is a random digit, ``@`` one of
    ``letters``, ``{a|b}`` one of the alternatives; anything else stands as it is."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "#":
            out.append(str(rng.randint(0, 9)))
        elif ch == "@":
            out.append(rng.choice(letters))
        elif ch == "{":
            end = pattern.index("}", i)
            out.append(rng.choice(pattern[i + 1 : end].split("|")))
            i = end
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def flatten(counts: dict[Any, int]) -> list[Any]:
    """A table of counts as a list: ``{"a": 2, "b": 1}`` is ``["a", "a", "b"]``."""
    return [value for value, n in counts.items() for _ in range(n)]
