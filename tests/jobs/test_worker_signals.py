"""`crisis-ct worker` stops on SIGTERM/SIGINT by setting a flag; run in-process (`--once`) it
must hand the process its own signal handling back. Left in place, a SIGTERM handler that
only sets a flag was inherited by the forked workers of a later full re-score, and the pool's
terminate() then waited for them forever (a whole test run hung on it)."""
from __future__ import annotations

import os
import signal
import time

from crisis_ct.cli import main
from crisis_ct.scoring import service


def test_worker_once_puts_the_signal_handlers_back(app, database):
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    result = app.test_cli_runner().invoke(main, ["worker", "--once", "--job", "accounts.purge_sessions"])
    assert result.exit_code == 0, result.output
    assert {signum: signal.getsignal(signum) for signum in before} == before


def test_a_scoring_pool_worker_dies_on_sigterm_whatever_its_parent_handles():
    previous = signal.signal(signal.SIGTERM, lambda *_: None)  # as `crisis-ct worker` does
    try:
        ready_read, ready_write = os.pipe()
        child = os.fork()
        if child == 0:  # what a forked pool worker runs first
            service._default_signals()
            os.write(ready_write, b"1")
            while True:
                signal.pause()
        os.close(ready_write)
        assert os.read(ready_read, 1) == b"1"
        os.kill(child, signal.SIGTERM)
        for _ in range(500):  # up to 5 s: a worker that ignores SIGTERM is killed and fails the test
            pid, status = os.waitpid(child, os.WNOHANG)
            if pid:
                break
            time.sleep(0.01)
        else:
            os.kill(child, signal.SIGKILL)
            _, status = os.waitpid(child, 0)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
