"""The command line's start: `crisis-ct --help` and `crisis-ct users --help` as whole processes,
against the floor of a Python that only imports click."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.lab import REPO_ROOT, Lab
from bench.measure import Figure, at_most, median, versus_floor

RUNS = 10
MAX_X = 4
MAX_S = 0.5


def _seconds(command: list[str]) -> list[float]:
    """Wall time of RUNS runs after one warm-up (which fills the page cache)."""
    timings = []
    for run in range(RUNS + 1):
        started = time.perf_counter()
        subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if run:
            timings.append(time.perf_counter() - started)
    return timings


def cli_start(lab: Lab) -> list[Figure]:
    cli = str(Path(sys.executable).parent / "crisis-ct")
    floor = median(_seconds([sys.executable, "-c", "import click"]))
    top = median(_seconds([cli, "--help"]))
    users = median(_seconds([cli, "users", "--help"]))
    note = f"whole process, median of {RUNS} after a warm-up; floor: python -c 'import click'"
    return [
        versus_floor("cli_help_s", "CLI start, crisis-ct --help", round(top, 3), round(floor, 3), "s",
                     at_most_x=MAX_X, note=note),
        at_most("cli_help_abs_s", "  crisis-ct --help, absolute", round(top, 3), "s", MAX_S),
        versus_floor("cli_users_help_s", "CLI start, crisis-ct users --help", round(users, 3), round(floor, 3), "s",
                     at_most_x=MAX_X, note=note),
        at_most("cli_users_help_abs_s", "  crisis-ct users --help, absolute", round(users, 3), "s", MAX_S),
    ]
