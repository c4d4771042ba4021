"""Processes for the scale bench's clients: one spawned process per job, each running a
module-level function on its job and handing back the result (or its error)."""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from typing import Any


def _child(
    function: Callable[[Any], Any],
    index: int,
    job: Any,
    results: Any,
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
) -> None:
    if initializer is not None:
        initializer(*initargs)
    try:
        results.put((index, function(job), None))
    except BaseException as exc:  # reported to the parent, which raises it
        results.put((index, None, f"{type(exc).__name__}: {exc}"))


class ClientProcesses:
    """One process per job running `function(job)`, started at once. Spawned, not forked:
    a client shares nothing with the parent (its threads, its open servers' pipes) but what
    `initargs` carries (e.g. a shared counter)."""

    def __init__(
        self,
        function: Callable[[Any], Any],
        jobs: list[Any],
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.queue = context.Queue()
        self.processes = [
            context.Process(
                target=_child, args=(function, i, job, self.queue, initializer, initargs)
            )
            for i, job in enumerate(jobs)
        ]
        for process in self.processes:
            process.start()

    def results(self) -> list[Any]:
        """Every job's result, in the jobs' order, once all have finished."""
        found: dict[int, Any] = {}
        while len(found) < len(self.processes):
            try:
                index, value, error = self.queue.get(timeout=2)
            except queue.Empty:
                dead = [p for p in self.processes if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"a client process died (exit {dead[0].exitcode})") from None
                continue
            if error is not None:
                raise RuntimeError(f"client process {index}: {error}")
            found[index] = value
        for process in self.processes:
            process.join()
        return [found[i] for i in range(len(self.processes))]


def shared_counter() -> Any:
    """An integer the parent and its client processes share (pass it in `initargs`)."""
    return multiprocessing.get_context("spawn").Value("i", 0)
