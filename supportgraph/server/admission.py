"""Admission control: how many turns one worker process takes on at once.

Every request that starts a turn (a customer message as JSON or SSE, a LangGraph run) takes a
slot with `admit_turn(request)` before it touches the database. Beyond
`Settings.max_turns_in_flight` slots (turns running, or waiting for their thread's lock) the
request is refused at once: 503, `Retry-After: Settings.retry_after_seconds`, the API's error
JSON with code `overloaded`. Nothing of the message is stored; the client sends it again later
(or a load balancer sends it to another worker). Accepting and queueing every message is what
made each one wait ~29 s at 1,000 concurrent conversations; a refusal costs microseconds.

An admitted turn always runs to its end (nothing is cancelled). Its slot is given back when the
request ends without a turn (a 404, a 413...), or when the turn ends: for a streamed turn that
is the end of the task `TurnSlot.start` runs it in, even if the client went away meanwhile.
Counted in /metrics: `supportgraph_turns_in_flight` and `supportgraph_turns_shed_total`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from supportgraph.config import Settings
from supportgraph.server.errors import error
from supportgraph.server.observability import Metrics
from supportgraph.server.schemas import ErrorBody

T = TypeVar("T")

# The OpenAPI entry of every route that admits turns (tests/test_rate_limits.py also reads it
# to check that the rate limits count those routes' messages).
SHED_RESPONSE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorBody,
        "description": "Too many turns in progress: the message was not stored; "
        "send it again after Retry-After seconds",
    }
}


class Overloaded(Exception):
    """A turn refused because the worker has `limit` turns in flight already."""

    def __init__(self, limit: int, retry_after: int) -> None:
        self.limit, self.retry_after = limit, retry_after
        self.message = (
            f"the server is busy; this message was not stored: send it again in {retry_after} s"
        )
        super().__init__(self.message)


class Admission:
    """The turn slots of one worker process (one event loop: no lock is needed)."""

    def __init__(self, limit: int, retry_after_seconds: int, metrics: Metrics) -> None:
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds
        self._metrics = metrics
        self._in_flight = 0
        # Tasks running handed-over turns, held until done (the loop keeps only weak references).
        self._turns: set[asyncio.Task[Any]] = set()

    @classmethod
    def from_settings(cls, settings: Settings, metrics: Metrics) -> Admission:
        return cls(settings.max_turns_in_flight, settings.retry_after_seconds, metrics)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def admit(self) -> TurnSlot:
        """A slot for one turn, or Overloaded (503) when every slot is taken."""
        if self._in_flight >= self.limit:
            self._metrics.turns_shed.inc()
            raise Overloaded(self.limit, self.retry_after_seconds)
        self._in_flight += 1
        self._metrics.turns_in_flight.inc()
        return TurnSlot(self)

    def _give_back(self) -> None:
        self._in_flight -= 1
        self._metrics.turns_in_flight.dec()


class TurnSlot:
    """One admitted turn's place, given back exactly once.

    Used as `with admit_turn(request) as slot:` around what the route does: leaving the block
    gives the slot back, unless the turn was handed to `start`, whose task gives it back when
    the turn ends."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._held = True
        self._handed_over = False

    def __enter__(self) -> TurnSlot:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._handed_over:  # a started turn's task gives the slot back when it ends
            self.release()

    def release(self) -> None:
        if self._held:
            self._held = False
            self._admission._give_back()

    def start(self, turn: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run `turn` in a task of its own that keeps the slot until the turn ends. A streamed
        answer reads what the task produces: the client going away stops the reading, never
        the turn, and the slot is not given back before the turn is done."""

        async def holding() -> T:
            try:
                return await turn
            finally:
                self.release()

        task = asyncio.create_task(holding())
        self._handed_over = True
        turns = self._admission._turns
        turns.add(task)
        task.add_done_callback(turns.discard)
        return task


def admit_turn(request: Request) -> TurnSlot:
    """A turn slot of this worker for the request, or Overloaded (answered 503)."""
    admission: Admission = request.app.state.admission
    return admission.admit()


def install_admission(app: FastAPI, settings: Settings, metrics: Metrics) -> Admission:
    """The app's Admission (app.state.admission) and its 503 answer."""
    admission = app.state.admission = Admission.from_settings(settings, metrics)

    @app.exception_handler(Overloaded)
    async def overloaded(request: Request, exc: Overloaded) -> JSONResponse:
        return error(
            503, exc.message, request, code="overloaded", **{"Retry-After": str(exc.retry_after)}
        )

    return admission
