"""langgraph.json exposes the graph for `langgraph dev` / Studio: no checkpointer, no context."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_exported_graph_runs_without_checkpointer_or_context(
    tmp_path: Path, data_dir: Path
) -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    module_path, _, attr = config["graphs"]["supportgraph"].partition(":")
    spec = importlib.util.spec_from_file_location("studio_graph", ROOT / module_path)
    assert spec and spec.loader
    (data_dir / "models").mkdir(exist_ok=True)
    (tmp_path / "models").symlink_to(data_dir / "models", target_is_directory=True)
    # A separate process: the platform builds Deps from the environment on first use.
    code = (
        "import asyncio, importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('g', {str(ROOT / module_path)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        f"g = getattr(m, {attr!r})\n"
        "assert g.checkpointer is None\n"
        "out = asyncio.run(g.ainvoke({'text': 'Where is my order?', 'turn': 1, 'thread_id': 'x'}))\n"
        "print(json.dumps({'awaiting': out['awaiting'], 'intent': out['intent']}))\n"
    )
    env = {**os.environ, "SUPPORTGRAPH_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == {
        "awaiting": "order_id",
        "intent": "order_tracking",
    }
