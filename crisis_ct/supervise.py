"""`python -m crisis_ct.supervise --port N`: what `make run` runs last — gunicorn and the
worker side by side, stopped together.

SIGTERM or SIGINT (a supervisor, `kill`, Ctrl-C; make passes its own on to this, its
direct child) stops both: SIGTERM to each, whatever is left after GRACE_SECONDS is killed
with its process group. If either exits on its own, the other is stopped too, so a
half-running service never goes unnoticed. Should this process be killed outright, the
kernel sends its children SIGTERM (PR_SET_PDEATHSIG)."""
from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE_SECONDS = 8.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the calling process: get SIGTERM when the parent dies (Linux; elsewhere nothing)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def commands(port: int, workers: int | None, host: str = "127.0.0.1") -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    web = [str(bin_dir / "gunicorn"), "-c", "python:crisis_ct.serving", "--bind", f"{host}:{port}",
           "--access-logfile", "-"]
    if workers:
        web += ["--workers", str(workers)]
    return {"web": web, "worker": [str(bin_dir / "crisis-ct"), "worker"]}


def _start(command: list[str]) -> subprocess.Popen:
    # A session of its own: the final kill reaches gunicorn's workers too.
    return subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with_parent)


def _stop(children: dict[str, subprocess.Popen]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for name, child in children.items():
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            print(f"supervise: {name} did not stop in {GRACE_SECONDS:.0f} s; killing it", file=sys.stderr)
    for child in children.values():
        try:
            os.killpg(child.pid, signal.SIGKILL)  # also whatever it left behind
        except (ProcessLookupError, PermissionError):
            pass
        child.wait()


def supervise(port: int, workers: int | None, host: str) -> int:
    _die_with_parent()
    stopping = []

    def on_signal(signum, _frame):
        stopping.append(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    children = {name: _start(command) for name, command in commands(port, workers, host).items()}
    code = 0
    try:
        while not stopping:
            ended = [name for name, child in children.items() if child.poll() is not None]
            if ended:
                code = children[ended[0]].returncode or 1
                print(f"supervise: {ended[0]} exited ({children[ended[0]].returncode}); stopping", file=sys.stderr)
                break
            time.sleep(0.2)
    finally:
        _stop(children)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crisis_ct.supervise", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--workers", type=int, help="gunicorn processes (default: crisis_ct/serving.py)")
    args = parser.parse_args(argv)
    return supervise(args.port, args.workers, args.host)


if __name__ == "__main__":
    sys.exit(main())
