"""The app served by gunicorn on 127.0.0.1, the way `make run` serves it, for HTTP benchmarks."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import orjson

from bench.lab import REPO_ROOT
from crisis_ct import serving

WORKERS = serving.workers
THREADS = serving.threads


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, *, env: dict | None = None) -> Iterator[int]:
    """gunicorn with `make run`'s settings (crisis_ct.serving) on a free port."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), "-c", "python:crisis_ct.serving",
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    environment = {**os.environ, "CRISIS_CT_DATABASE_URL": database_url, "CRISIS_CT_SECRET_KEY": "bench",
                   **(env or {})}
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment)
    try:
        _wait_until_up(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    """Until every worker answers: with --reuse-port each worker accepts on its own socket, so
    one answer proves one worker up, and a benchmark started then would wait for the others'
    boot. Twenty fresh connections in a row answered promptly make a booting worker that
    none of them reached (each lands on a worker by its port's hash) a one-in-a-million case."""
    deadline = time.monotonic() + timeout
    answered = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                answered += 1
            if answered >= 20:
                return
        except OSError:
            answered = 0
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def load(port: int, *, token: str, bodies: list[bytes] | None = None, requests: int = 0,
         paths: list[str] | None = None, path: str = "/", method: str = "POST", concurrency: int,
         max_seconds: float, warmup: int, workdir: Path, name: str) -> dict:
    """Run bench/loadgen.py as its own process (so it does not share our GIL) and read its
    result: POST each of `bodies` once, or (no bodies) send `requests` bodiless requests."""
    command = [sys.executable, str(Path(__file__).with_name("loadgen.py")), "--port", str(port),
               "--token", token, "--concurrency", str(concurrency), "--method", method,
               "--max-seconds", str(max_seconds), "--warmup", str(warmup), "--path", path]
    if bodies is not None:
        bodies_file = workdir / f"{name}.jsonl"
        bodies_file.write_bytes(b"\n".join(bodies) + b"\n")
        command += ["--bodies", str(bodies_file)]
    else:
        command += ["--requests", str(requests)]
    if paths is not None:
        paths_file = workdir / f"{name}.paths"
        paths_file.write_text("\n".join(paths) + "\n")
        command += ["--paths-file", str(paths_file)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"load generator failed: {result.stderr[-2000:]}")
    return orjson.loads(result.stdout.strip().splitlines()[-1])
