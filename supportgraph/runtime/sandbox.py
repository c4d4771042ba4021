"""Sandboxes: a throwaway data dir with its own store and checkpoints that reuses the real
data dir's models and KB index (read-only), so eval cases and replays never touch live data
and never rebuild an index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from supportgraph.config import Settings

SHARED = ("models", "kb")


def sandbox_settings(base: Settings, directory: Path, **updates: Any) -> Settings:
    """Settings like `base`, with data in `directory` (its store.db and checkpoints.db)."""
    shared = base.resolved_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    for name in SHARED:
        link = directory / name
        if not link.exists():
            (shared / name).mkdir(parents=True, exist_ok=True)
            link.symlink_to((shared / name).resolve(), target_is_directory=True)
    # Everything local: a sandbox never writes to a shared PostgreSQL database.
    local: dict[str, Any] = {"data_dir": directory, "checkpointer_url": None, "database_url": None}
    if base.store_backend == "postgres":
        local["store_backend"] = "sqlite"
    return base.model_copy(update={**local, **updates})
