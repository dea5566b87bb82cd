"""Figures 3 and 5: bulk submission import against a raw COPY, and the streaming CLI import."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import psycopg

from bench.lab import ASSET_UID, BATCH, REPO_ROOT, Lab
from bench.measure import Figure, at_most, info, median, versus_floor
from crisis_ct.db import Database

COPY_TABLE = """
CREATE TABLE copy_baseline (
    id bigserial PRIMARY KEY,
    instance_id text NOT NULL UNIQUE,
    raw jsonb NOT NULL
)"""
MIN_SHARE_OF_COPY = 0.5
MAX_STREAM_RSS_MB = 500


def copy_rate(lab: Lab, database_name: str, records: list[dict]) -> tuple[float, list[float]]:
    """Raw COPY of the same records (serialised here, like the ingestion path must), one
    transaction per 1,000 rows, into a table with jsonb payload, PK and UNIQUE."""
    with psycopg.connect(lab.dsn(database_name)) as connection:
        connection.execute("DROP TABLE IF EXISTS copy_baseline")
        connection.execute(COPY_TABLE)
        connection.commit()
        batch_seconds = []
        started = time.perf_counter()
        for start in range(0, len(records), BATCH):
            batch_started = time.perf_counter()
            with connection.cursor() as cursor:
                with cursor.copy("COPY copy_baseline (instance_id, raw) FROM STDIN") as copy:
                    for record in records[start:start + BATCH]:
                        copy.write_row((record["meta/instanceID"], orjson.dumps(record).decode()))
            connection.commit()
            batch_seconds.append(time.perf_counter() - batch_started)
        total = time.perf_counter() - started
        connection.execute("DROP TABLE copy_baseline")
        connection.commit()
    return len(records) / total, batch_seconds


def ingest_rate(lab: Lab, database: Database, records: list[dict]) -> tuple[float, list[float]]:
    """The real path, as `crisis-ct kobo import` runs it (importer.store_batches): batches of
    1,000 through the Ingestor, one transaction each, the next batch read while the
    database stores the current one."""
    from crisis_ct.kobo.importer import batches, store_batches

    done_at: list[float] = []
    started = time.perf_counter()
    tally = store_batches(database, ASSET_UID, batches(records, BATCH), via="import",
                          progress=lambda _n: done_at.append(time.perf_counter()))
    total = time.perf_counter() - started
    batch_seconds = [end - start for start, end in zip([started, *done_at], done_at)]
    if tally.stored != len(records):
        raise RuntimeError(f"only {tally.stored} of {len(records)} submissions were stored ({tally.line()})")
    return len(records) / total, batch_seconds


def bulk_import(lab: Lab) -> list[Figure]:
    records = lab.records()  # generated before any timing
    url = lab.copy_database(lab.world(), "loaded")
    copy_per_s, copy_batches = copy_rate(lab, "loaded", records)
    database = Database(url)
    rate, batches = ingest_rate(lab, database, records)
    database.dispose()
    lab.mark_loaded()
    n = f"{len(records):,} submissions"
    return [
        versus_floor("ingest_rate", f"Bulk submission import ({n}, store_batches as kobo import, batches of 1,000)",
                     round(rate), round(copy_per_s), "submissions/s", at_least_x=MIN_SHARE_OF_COPY,
                     note=f"floor: raw COPY of the same records (jsonb, PK, UNIQUE), 1,000 rows a transaction; "
                          f"median batch {BATCH / median(batches):,.0f}/s vs COPY "
                          f"{BATCH / median(copy_batches):,.0f}/s",
                     detail={"batch_seconds": batches, "copy_batch_seconds": copy_batches}),
    ]


def write_export(records: list[dict], path: Path) -> int:
    """A data-endpoint export, {"count": n, "results": [...]}, written record by record."""
    with path.open("wb") as handle:
        handle.write(b'{"count": %d, "next": null, "previous": null, "results": [' % len(records))
        for index, record in enumerate(records):
            if index:
                handle.write(b",\n")
            handle.write(orjson.dumps(record))
        handle.write(b"]}\n")
    return path.stat().st_size


def streaming_import(lab: Lab) -> list[Figure]:
    """`crisis-ct kobo import FILE --asset UID` as its own process, under /usr/bin/time -v.
    The CLI re-scores the touched sites after storing: that is in its peak memory and wall
    time, but the rate counts only until it prints its tally (the storing)."""
    records = lab.records()
    path = lab.workdir / "export.json"
    size = write_export(records, path)
    url = lab.copy_database(lab.world(), "stream")
    env = {**os.environ, "CRISIS_CT_DATABASE_URL": url, "CRISIS_CT_SECRET_KEY": "bench",
           "PYTHONUNBUFFERED": "1"}
    cli = str(Path(sys.executable).parent / "crisis-ct")
    command = ["/usr/bin/time", "-v", cli, "kobo", "import", str(path), "--asset", ASSET_UID]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    tally_at, output = None, []
    for line in process.stdout:
        output.append(line.rstrip())
        if " read: " in line and tally_at is None:
            tally_at = time.perf_counter() - started
            # What follows is the CLI's re-scoring of all 10,000 sites (task generation
            # makes it minutes long): stop there; /usr/bin/time still reports the peak.
            _stop_cli(process)
    stderr = process.stderr.read()
    process.wait()
    total = time.perf_counter() - started
    if tally_at is None:
        raise RuntimeError(f"crisis-ct kobo import failed ({process.returncode}): {output[-5:]} {stderr[-2000:]}")
    peak_mb = _max_rss_kb(stderr) / 1024
    tally = next(line for line in output if " read: " in line)
    return [
        at_most("stream_peak_rss_mb", f"Streaming import of {len(records):,} submissions: peak RSS",
                round(peak_mb), "MB", MAX_STREAM_RSS_MB,
                note=f"`crisis-ct kobo import` under /usr/bin/time -v, stopped after storing (before its "
                     f"re-scoring); "
                     f"file {size / 1e6:.0f} MB"),
        info("stream_rate", "Streaming import rate (CLI, until the tally line)", round(len(records) / tally_at),
             "submissions/s", note=f"{tally_at:.1f} s incl. process start; {tally.strip()}",
             detail={"store_seconds": tally_at, "total_seconds": total, "output": output[-5:]}),
    ]


def _stop_cli(process: subprocess.Popen) -> None:
    # /usr/bin/time is the direct child; the CLI is its child. Signal the CLI only.
    result = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True)
    for pid in result.stdout.split():
        os.kill(int(pid), signal.SIGTERM)


def _max_rss_kb(time_output: str) -> int:
    for line in time_output.splitlines():
        if "Maximum resident set size" in line:
            return int(line.rsplit(":", 1)[1])
    raise RuntimeError(f"no peak memory in /usr/bin/time output: {time_output[-500:]}")
