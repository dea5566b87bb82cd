"""crisis-ct benchmarks: `make bench`, or `.venv/bin/python bench/run.py --only sites,webhook`;
`make bench SCALE=100k` (`--scale 100k`) measures the world ten times the demo's instead.

Starts its own throwaway PostGIS, builds the data it needs (bench/lab.py), runs the chosen
benchmarks, prints a table of figures with their goals and writes them as JSON.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import orjson  # noqa: E402

from bench import (bench_cli, bench_drain, bench_exports, bench_ingest, bench_map, bench_my, bench_scale,  # noqa: E402
                   bench_scoring, bench_sites, bench_tasks, bench_webhook)
from bench.lab import Lab  # noqa: E402
from bench.measure import Figure, skipped  # noqa: E402

# In running order: later benchmarks reuse the databases earlier ones leave behind.
BENCHMARKS = {
    "cli": bench_cli.cli_start,
    "sites": bench_sites.sites_import,
    "ingest": bench_ingest.bulk_import,
    "scoring": bench_scoring.scoring,
    "geojson": bench_sites.sites_geojson,
    "webhook": bench_webhook.webhook,
    "stream": bench_ingest.streaming_import,
    "tasks": bench_tasks.tasks,
    "map": bench_map.map_page,
    "my": bench_my.my_page,
    "drain": bench_drain.webhook_during_drain,
    "exports": bench_exports.exports,
}
# `--scale 100k`: the large world only (it scores the 10,000-site world too, as its reference).
LARGE = {"scale": bench_scale.large_world}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--scale", choices=["10k", "100k"], default="10k",
                        help="10k: the usual figures; 100k: the world ten times larger (several minutes)")
    args = parser.parse_args(argv)
    suite = LARGE if args.scale == "100k" else BENCHMARKS
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(suite)
    unknown = [name for name in chosen if name not in suite]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(suite)}")
    args.suite = suite
    args.chosen = [name for name in suite if name in chosen]
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine(lab: Lab) -> dict:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "postgres": lab.postgres_version(),
        "platform": platform.platform(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "floor", "ratio", "goal", "", "note")]
    for f in figures:
        value = "-" if f.value is None else f"{f.value:,} {f.unit}"
        floor = "" if f.floor is None else f"{_round(f.floor):,} {f.unit}"
        ratio = "" if f.ratio is None else f"{f.ratio:g}x"
        rows.append((f.label, value, floor, ratio, f.goal, f.verdict, f.note))
    columns = len(rows[0]) - 1
    widths = [max(len(r[i]) for r in rows) for i in range(columns)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:columns])) + "  " + row[-1])
        if index == 0:
            lines.append("-" * (sum(widths) + 2 * columns + 30))
    return "\n".join(lines)


def _round(number: float) -> float:
    return round(number) if abs(number) >= 100 else round(number, 2)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="crisis-ct-bench-") as workdir:
        lab = Lab(Path(workdir), log=log)
        try:
            for name in args.chosen:
                log(f"benchmark: {name}")
                try:
                    new = args.suite[name](lab)
                except Exception as exc:  # one broken benchmark must not hide the others' figures
                    traceback.print_exc()
                    new = [skipped(name, f"{name} (failed)", f"{type(exc).__name__}: {exc}")]
                for figure in new:
                    log(f"  {figure.label}: {figure.value} {figure.unit} {figure.verdict}")
                figures.extend(new)
            info = machine(lab)
        finally:
            lab.stop()
    elapsed = time.perf_counter() - started
    print()
    print(table(figures))
    print(f"\n{info['cores']} cores, Python {info['python']}, {info['postgres']}; {elapsed:.0f} s in all")
    if args.out:
        document = {"machine": info, "seconds": round(elapsed, 1), "scale": args.scale, "benchmarks": args.chosen,
                    "figures": [f.as_dict() for f in figures]}
        args.out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
