"""The model server's verbose log, read while it is written, cut into one block per
generation and matched to the proxy's exchanges.

llama-cpp-python prints per generation (verified on 0.3.36; see the script's docstring):

    Llama.generate: 512 prefix-match hit, remaining 8 prompt tokens to eval
    llama_perf_context_print:        load time =  ...
    llama_perf_context_print: prompt eval time =  210.11 ms /     8 tokens (...)
    llama_perf_context_print:        eval time =  900.00 ms /    39 runs   (...)
    llama_perf_context_print:       total time = 1980.44 ms /    47 tokens
    llama_perf_context_print:    graphs reused =         38

The first line appears only when some prefix of the prompt was already in the KV cache
(X > 0); then the prompt is X + Y tokens, Y of them evaluated. The log has no timestamps,
so a thread stamps each line as it appears: that places a generation in time, which is
how one that ran on after its client left is seen.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llm_real_support.proxy import Exchange

PREFIX = re.compile(r"Llama\.generate: (\d+) prefix-match hit, remaining (\d+) prompt tokens")
PROMPT_EVAL = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens")
EVAL = re.compile(r"(?<!prompt )eval time =\s*([\d.]+) ms /\s*(\d+) runs")
TOTAL = re.compile(r"total time =\s*([\d.]+) ms /\s*(\d+) tokens")
PERF = "llama_perf_context_print:"
LOAD = "load time ="  # the first perf line of a generation
POLL_S = 0.05
# A request that ended normally before its generation's first line can't own it; the
# stamps are up to one poll late, so allow some slack.
STAMP_SLACK_S = 0.3


class LogTail(threading.Thread):
    """Reads the log file as it grows and keeps (perf_counter, line) pairs."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="server-log-tail", daemon=True)
        self.path = path
        self.lines: list[tuple[float, str]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        pending = ""
        with self.path.open("r", errors="replace") as log:
            while True:
                chunk = log.read()
                stamp = time.perf_counter()
                if chunk:
                    *complete, pending = (pending + chunk).split("\n")
                    self.lines += [(stamp, line) for line in complete]
                elif self._stop_event.is_set():
                    break
                else:
                    time.sleep(POLL_S)
        if pending:
            self.lines.append((time.perf_counter(), pending))

    def stop(self) -> None:
        time.sleep(2 * POLL_S)  # let the last lines in
        self._stop_event.set()
        self.join(timeout=5)


@dataclass
class Generation:
    started: float  # stamp of its first line
    ended: float | None = None  # stamp of its "total time" line (None: never printed)
    prefix_hit: int = 0  # X: prompt tokens already in the KV cache
    remaining: int | None = None  # Y from the prefix line
    prompt_eval: int | None = None  # tokens evaluated, from the perf lines
    eval_runs: int | None = None  # decode steps: generated tokens
    total_ms: float | None = None
    exchange: int | None = None  # the proxy exchange it belongs to

    @property
    def evaluated(self) -> int:
        return self.remaining if self.remaining is not None else self.prompt_eval or 0

    @property
    def prompt_tokens(self) -> int:
        return self.prefix_hit + self.evaluated

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "prompt_tokens": self.prompt_tokens}


def generations(lines: list[tuple[float, str]]) -> list[Generation]:
    found: list[Generation] = []
    current: Generation | None = None
    for stamp, line in lines:
        prefix = PREFIX.search(line)
        if prefix:
            # A new generation; one still open never printed its timings (interrupted).
            current = Generation(stamp, prefix_hit=int(prefix[1]), remaining=int(prefix[2]))
            found.append(current)
            continue
        if PERF not in line:
            continue
        if current is None:
            if LOAD not in line:
                continue  # a perf line after "total time" ("graphs reused"): not a new one
            current = Generation(stamp)  # no prefix line: nothing of this prompt was cached
            found.append(current)
        if m := PROMPT_EVAL.search(line):
            current.prompt_eval = int(m[2])
        elif m := EVAL.search(line):
            current.eval_runs = int(m[2])
        elif m := TOTAL.search(line):
            current.total_ms, current.ended = float(m[1]), stamp
            current = None
    return found


def _generates(ex: Exchange) -> bool:
    """Exchanges that reach a generation: completions the server accepted, or that the
    client left before any answer (the server may still be working on them)."""
    if not ex.path.endswith("completions") or ex.error:
        return False
    return ex.status == 200 or (ex.status is None and ex.aborted)


def match(gens: list[Generation], exchanges: list[Exchange]) -> None:
    """The server runs one generation at a time in arrival order (llama_outer_lock), so
    generations belong to accepted requests in order. A request that finished normally
    before a generation began cannot own it (it produced no generation of its own)."""
    queue = sorted((ex for ex in exchanges if _generates(ex)), key=lambda ex: ex.started)
    position = 0
    for gen in gens:
        while position < len(queue):
            ex = queue[position]
            done_before = (
                not ex.aborted and ex.ended is not None and ex.ended < gen.started - STAMP_SLACK_S
            )
            if not done_before:
                break
            position += 1
        if position < len(queue) and queue[position].started <= gen.started + STAMP_SLACK_S:
            gen.exchange = queue[position].index
            position += 1
