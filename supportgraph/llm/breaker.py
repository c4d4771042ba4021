"""Circuit breaker: stop calling a model that keeps failing, try it again after a cool-down.

closed --N consecutive failures--> open --cool-down passed--> half-open
half-open --trial call succeeds--> closed;  half-open --trial call fails--> open (cool-down anew)

While open, callers skip the model at once instead of waiting out its timeouts on every
turn. In half-open exactly one trial call goes through; concurrent turns keep skipping it
until that trial has settled, so a recovering server is not stampeded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 3,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = max(1, failure_threshold)
        self.cooldown_s = cooldown_s
        self.clock = clock
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        """The state now: an open breaker whose cool-down passed reads as half-open."""
        if self._state == "open" and self.clock() - self._opened_at >= self.cooldown_s:
            self._state = "half_open"
            self._trial_running = False
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go out now. In half-open, only the first caller is let through."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def record_success(self) -> None:
        self._state = "closed"
        self._failures = 0
        self._trial_running = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._state == "half_open" or self._failures >= self.failure_threshold:
            self._state = "open"
            self._opened_at = self.clock()
        self._trial_running = False

    def release(self) -> None:
        """A call that was let through ended without telling anything about the model's
        health (e.g. the caller rejected a valid answer): let the next caller try."""
        self._trial_running = False
