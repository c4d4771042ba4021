"""Numeric string ids, increasing like a platform's (Shopify's ids grow with creation time)."""

from __future__ import annotations

import random


class NumericIds:
    """'6012350412345', then a larger one each time: a random step, never the same twice."""

    def __init__(self, rng: random.Random, start: int, step: tuple[int, int]) -> None:
        self.rng = rng
        self.value = start
        self.step = step

    def next(self) -> str:
        self.value += self.rng.randint(*self.step)
        return str(self.value)
