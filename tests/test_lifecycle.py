"""`make run`'s processes (issue 14): SIGTERM or SIGINT to make stops gunicorn and the worker
within 10 s, gunicorn says where it listens, and its control socket is under var/.

`make serve` is the last step of `make run` (the same $(SERVE) line) without the demo
set-up, on a migrated temporary SQLite database."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from crisis_ct.db import Database, upgrade

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_make_stops_gunicorn_and_the_worker_within_10_s(tmp_path, signum):
    url = f"sqlite:///{tmp_path / 'run.sqlite'}"
    database = Database(url)
    upgrade(database)
    database.dispose()
    port = free_port()
    env = dict(os.environ, CRISIS_CT_DATABASE_URL=url, CRISIS_CT_VAR_DIR=str(tmp_path / "var"), HOME=str(tmp_path))
    env.pop("XDG_RUNTIME_DIR", None)
    log = tmp_path / "make.log"
    with log.open("w") as out:
        make = subprocess.Popen(["make", "-s", "serve", f"PORT={port}", "WORKERS=1"], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline:
            body = health(port)
            if body and body["worker"]["alive"]:
                break
            time.sleep(0.3)
        assert body and body["worker"]["alive"] == 1, log.read_text()
        started = descendants(make.pid)
        assert len(started) >= 4, "supervisor, gunicorn master and worker, crisis-ct worker"

        stop_asked = time.monotonic()
        if signum == signal.SIGTERM:
            os.kill(make.pid, signum)  # make alone, as a supervisor signals the process it started
        else:
            os.killpg(make.pid, signum)  # make's process group, as Ctrl-C in a terminal does
        make.wait(timeout=15)
        while any(alive(pid) for pid in started) and time.monotonic() - stop_asked < 10:
            time.sleep(0.1)
        took = time.monotonic() - stop_asked
        left = [pid for pid in started if alive(pid)]
        assert left == [] and took < 10, f"still running after {took:.1f} s: {left}\n{log.read_text()}"
        assert health(port) is None
    finally:
        for pid in descendants(make.pid) | {make.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    output = log.read_text()
    assert f"Listening at: http://127.0.0.1:{port}" in output
    control = tmp_path / "var" / "run" / f"gunicorn-{port}.ctl"
    assert f"Control socket listening at {control}" in output
    assert not (tmp_path / ".gunicorn").exists()
    assert "Traceback" not in output
