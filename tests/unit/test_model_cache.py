"""Fitted models are cached once per key, even when processes start together."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from supportgraph.nlu.model_cache import cached_fit


def _fit_and_count(cache_dir: Path, log: Path) -> dict[str, int]:
    def fit() -> dict[str, int]:
        with log.open("a") as fh:
            fh.write("fit\n")
        time.sleep(0.5)  # long enough for the other process to arrive mid-fit
        return {"weights": 42}

    return cached_fit(cache_dir, "model", "k1", fit)


def _worker(cache_dir: Path, log: Path, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(_fit_and_count(cache_dir, log))


def test_processes_that_start_together_fit_a_model_once(tmp_path: Path) -> None:
    log = tmp_path / "fits.log"
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    procs = [
        multiprocessing.Process(target=_worker, args=(tmp_path / "models", log, out))
        for _ in range(3)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert results == [{"weights": 42}] * 3
    assert log.read_text().splitlines() == ["fit"]
    # A later process reads the file and fits nothing.
    assert _fit_and_count(tmp_path / "models", log) == {"weights": 42}
    assert log.read_text().splitlines() == ["fit"]


def test_a_corrupt_cache_file_is_refitted(tmp_path: Path) -> None:
    (tmp_path / "model-k1.pkl").write_bytes(b"not a pickle")
    log = tmp_path / "fits.log"
    assert _fit_and_count(tmp_path, log) == {"weights": 42}
    assert log.read_text().splitlines() == ["fit"]
