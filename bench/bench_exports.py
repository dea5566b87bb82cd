"""Exports of 100,000 submissions (with their key-informant answers) in bounded memory:
`crisis-ct export submissions` as its own process under /usr/bin/time -v, as the coordinator
(who gets every row and every answer), once as CSV and once as XLSX. Peak RSS is the figure;
the wall time is reported beside it for information, not as a goal."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.bench_ingest import _max_rss_kb
from bench.lab import REPO_ROOT, Lab
from bench.measure import Figure, at_most, info

MAX_EXPORT_RSS_MB = 200
COORDINATOR = "coord@bench.example.org"


def _export(lab: Lab, url: str, fmt: str) -> tuple[float, float, int, int]:
    """(peak MB, seconds, bytes written, data rows) of one export run."""
    target = lab.workdir / f"submissions.{fmt}"
    env = {**os.environ, "CRISIS_CT_DATABASE_URL": url, "CRISIS_CT_SECRET_KEY": "bench", "PYTHONUNBUFFERED": "1"}
    cli = str(Path(sys.executable).parent / "crisis-ct")
    command = ["/usr/bin/time", "-v", cli, "export", "submissions", "--as", COORDINATOR, "--format", fmt,
               "-o", str(target)]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"crisis-ct export failed ({result.returncode}): {result.stderr[-2000:]}")
    rows = _csv_rows(target) if fmt == "csv" else -1
    return _max_rss_kb(result.stderr) / 1024, seconds, target.stat().st_size, rows


def _csv_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 2  # header and HXL rows


def exports(lab: Lab) -> list[Figure]:
    url = lab.url(lab.loaded())
    figures: list[Figure] = []
    for fmt in ("csv", "xlsx"):
        peak, seconds, size, rows = _export(lab, url, fmt)
        count = f"{rows:,} rows, " if rows >= 0 else ""
        figures += [
            at_most(f"export_submissions_{fmt}_peak_rss_mb",
                    f"Export of {len(lab.records()):,} submissions as {fmt.upper()}: peak RSS", round(peak), "MB",
                    MAX_EXPORT_RSS_MB,
                    note=f"`crisis-ct export submissions --format {fmt}` under /usr/bin/time -v; "
                         f"{count}{size / 1e6:.0f} MB written"),
            info(f"export_submissions_{fmt}_s", f"Export of the submissions as {fmt.upper()}: wall time",
                 round(seconds, 1), "s", note="process start included"),
        ]
    return figures
