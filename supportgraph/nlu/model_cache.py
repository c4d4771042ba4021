"""Fitted models cached in the data dir: trained once, read back in ~0.1 s by later processes.

The key is a hash of everything the fit depends on (the examples, the settings, the
scikit-learn version), so changed data retrains instead of reading a stale model. Writes go
through a temporary file and an atomic rename: concurrent processes never read a half file.
Processes that start together on a fresh data dir (`serve --workers N`, test workers sharing a
cache) fit each model once: the first takes a lock on the model's file, the others wait for it
and read what it wrote instead of fitting the same model side by side on the same cores.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def cache_key(*parts: Any) -> str:
    import sklearn

    return hashlib.sha256(json.dumps([*parts, sklearn.__version__]).encode()).hexdigest()[:16]


def cached_fit(cache_dir: Path | None, name: str, key: str, fit: Callable[[], Any]) -> Any:
    """The fitted object `fit()` returns, read from `<cache_dir>/<name>-<key>.pkl` when there."""
    if cache_dir is None:
        return fit()
    cache = cache_dir / f"{name}-{key}.pkl"
    fitted = _read(cache)
    if fitted is not None:
        return fitted
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _fitting(cache):
        fitted = _read(cache)  # another process fitted it while this one waited
        if fitted is None:
            fitted = fit()
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(fitted, fh)
            tmp.replace(cache)
    return fitted


def _read(cache: Path) -> Any | None:
    if not cache.exists():
        return None
    try:
        with cache.open("rb") as fh:
            return pickle.load(fh)  # our own cache file, written by cached_fit
    except Exception:  # a corrupt or foreign cache is rebuilt, never fatal
        cache.unlink(missing_ok=True)
        return None


@contextlib.contextmanager
def _fitting(cache: Path) -> Iterator[None]:
    """Held while one process fits `cache`; released by the OS if that process dies."""
    with cache.with_suffix(".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
