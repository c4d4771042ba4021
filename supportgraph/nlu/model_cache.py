"""Fitted models cached in the data dir: trained once, read back in ~0.1 s by later processes.

The key is a hash of everything the fit depends on (the examples, the settings, the
scikit-learn version), so changed data retrains instead of reading a stale model. Writes go
through a temporary file and an atomic rename: concurrent processes never read a half file.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable
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
    if cache.exists():
        try:
            with cache.open("rb") as fh:
                return pickle.load(fh)  # our own cache file, written below
        except Exception:  # a corrupt or foreign cache is rebuilt, never fatal
            cache.unlink(missing_ok=True)
    fitted = fit()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        pickle.dump(fitted, fh)
    tmp.replace(cache)
    return fitted
