"""Deadlines that fit the model: learned per endpoint and kind of call, bounded by the turn.

A fixed timeout is wrong both ways: a 0.5B model on two cores needs 3-10 s for a call a hosted
model answers in 0.5 s. So each endpoint's deadline for a kind of call (understanding,
phrasing, tools) is learned from the latencies it showed: a few times its recent slow calls,
never above the configured ceiling (`ModelSettings.timeout_s`), never below a floor that
absorbs jitter. Until enough calls were seen, the ceiling applies.

The turn deadline (`LLMSettings.turn_deadline_s`) bounds every call of the turn: a call that
could not finish in the time left (its usual latency is longer) is not started, and one that
runs out of time is cancelled; the caller's offline answer stands in.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW = 20  # recent calls per endpoint and kind
MIN_SAMPLES = 3  # fewer: the ceiling applies
SLOW_QUANTILE = 0.9
HEADROOM = 2.0  # deadline = HEADROOM x the recent slow (90th percentile) latency
FLOOR_S = 2.0  # below this, scheduling jitter and a cold cache would cause false timeouts


@dataclass
class LatencyBook:
    """Recent latencies per (endpoint, kind); shared by all turns of a process."""

    samples: dict[str, deque[float]] = field(default_factory=dict)

    def observe(self, key: str, seconds: float) -> None:
        self.samples.setdefault(key, deque(maxlen=WINDOW)).append(seconds)

    def typical(self, key: str) -> float | None:
        """The median latency seen, None before MIN_SAMPLES calls."""
        seen = self.samples.get(key)
        if not seen or len(seen) < MIN_SAMPLES:
            return None
        return statistics.median(seen)

    def deadline(self, key: str, ceiling: float) -> float:
        seen = self.samples.get(key)
        if not seen or len(seen) < MIN_SAMPLES:
            return ceiling
        ordered = sorted(seen)
        slow = ordered[min(len(ordered) - 1, int(SLOW_QUANTILE * len(ordered)))]
        return min(ceiling, max(FLOOR_S, HEADROOM * slow))


class TurnBudget:
    """The time left in a turn, by the wall clock the turn started on."""

    def __init__(self, deadline_at: float | None, clock: Callable[[], float] = time.time) -> None:
        self.deadline_at = deadline_at
        self.clock = clock

    @classmethod
    def unbounded(cls) -> TurnBudget:
        return cls(None)

    @classmethod
    def from_start(
        cls, started: float | None, seconds: float | None, clock: Callable[[], float] = time.time
    ) -> TurnBudget:
        if started is None or seconds is None:
            return cls(None, clock)
        return cls(started + seconds, clock)

    def remaining(self) -> float | None:
        """Seconds left (may be negative), None without a turn deadline."""
        if self.deadline_at is None:
            return None
        return self.deadline_at - self.clock()

    def allows(self, expected: float | None) -> bool:
        """Can a call that usually takes `expected` seconds still finish in time?"""
        left = self.remaining()
        if left is None:
            return True
        return left > 0 and (expected is None or expected <= left)

    def cap(self, seconds: float) -> float:
        """A call's own deadline, shortened to what is left of the turn."""
        left = self.remaining()
        return seconds if left is None else max(0.0, min(seconds, left))
