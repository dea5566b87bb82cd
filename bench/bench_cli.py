"""How fast the `crisis-ct` command starts (issue 13, item 12): `crisis-ct --help` and
`crisis-ct users --help` as new processes, beside `python -c "import click"`, the floor any
click program pays. Medians of a few runs; needs no database (the lab is not used)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.measure import Figure, at_most, info, median

RUNS = 7


def _start_seconds(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return median(times)


def cli_start(_lab=None) -> list[Figure]:
    cli = str(Path(sys.executable).parent / "crisis-ct")
    floor = _start_seconds([sys.executable, "-c", "import click"])
    figures = [info("cli_floor_s", "python -c 'import click'", round(floor, 3), "s")]
    for key, args in (("cli_help_s", ["--help"]), ("cli_users_help_s", ["users", "--help"])):
        seconds = _start_seconds([cli, *args])
        figures.append(at_most(key, f"crisis-ct {' '.join(args)}", round(seconds, 3), "s", 0.5,
                               note=f"{seconds - floor:+.3f} s over the click floor (median of {RUNS})"))
    return figures


if __name__ == "__main__":
    for figure in cli_start():
        print(f"{figure.label}: {figure.value} {figure.unit} {figure.verdict} {figure.note}")
