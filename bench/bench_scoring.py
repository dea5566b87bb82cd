"""Figure 6: full re-score of 10,000 sites / 100,000 submissions, incremental re-score, memory."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import orjson
import sqlalchemy as sa

from bench.lab import OPERATION, REPO_ROOT, Lab
from bench.floors import (copy_write_seconds, full_rescore_read_seconds, mark_tables, site_rescore_floor_ms,
                          written_rows)
from bench.measure import Figure, at_most, info, median, versus_floor
from crisis_ct.db import Database

MAX_FULL_X = 2  # times the floor: plain psycopg reading what it reads and COPYing what it writes
MAX_INCREMENTAL_X = 3
MAX_PEAK_MB = 1024
INCREMENTAL_RUNS = 21


def full_score(lab: Lab, database_name: str) -> dict:
    command = [sys.executable, str(Path(__file__).with_name("score_child.py")), lab.url(database_name), OPERATION]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"score_all failed: {result.stderr[-3000:]}")
    return orjson.loads(result.stdout.strip().splitlines()[-1])


class Incremental(NamedTuple):
    site_ms: list[float]  # the site's own re-score, as the worker's drain does it, commit included
    floor_ms: list[float]
    statements: list[int]  # SQL statements the site's re-score sent
    area_ms: list[float]  # the round that re-scores the admin areas above it afterwards


def incremental(lab: Lab, database_name: str) -> Incremental:
    """Store one new submission for a site (webhook path, committed), then time what the
    worker does for it: the site's re-score (`rescore_sites(..., areas_now=False)`, which
    marks the areas above it changed) plus its commit, and the floor for the same site; then
    the round that re-scores those areas (`drain_areas`), timed on its own."""
    database = Database(lab.url(database_name))
    records = lab.fresh_records(INCREMENTAL_RUNS, first_kobo_id=5_000_000, seed=6)
    try:
        return _incremental_runs(database, lab, records, lab.dsn(database_name))
    finally:
        database.dispose()


def _incremental_runs(database: Database, lab: Lab, records: list[dict], dsn: str) -> Incremental:
    from crisis_ct.geography.models import Site
    from crisis_ct.kobo.ingest import STORED, Ingestor
    from crisis_ct.scoring.drain import drain_areas
    from crisis_ct.scoring.service import rescore_sites

    sent = [0]

    def count(*_args):
        sent[0] += 1

    sa.event.listen(database.engine, "before_cursor_execute", count)
    result = Incremental([], [], [], [])
    for record in records:
        with database.session() as session:
            outcome = Ingestor(session, lab.asset(session), via="webhook").ingest([record])[0]
        if outcome.status != STORED:
            raise RuntimeError(f"the submission was not stored: {outcome}")
        session = database.sessionmaker()
        code = next(v for k, v in record.items() if k == "site_id" or k.endswith("/site_id"))
        site_id = session.scalar(sa.select(Site.id).where(Site.site_code == code))
        session.commit()
        sent[0] = 0
        started = time.perf_counter()
        rescore_sites(session, [site_id], areas_now=False)
        session.commit()
        result.site_ms.append((time.perf_counter() - started) * 1000)
        result.statements.append(sent[0])
        started = time.perf_counter()
        drain_areas(session)
        result.area_ms.append((time.perf_counter() - started) * 1000)
        session.close()
        result.floor_ms.append(site_rescore_floor_ms(dsn, site_id))
    return result


def scoring(lab: Lab) -> list[Figure]:
    # One full run: with today's task generation a second (re-)run would double the
    # suite's time. It is the first scoring of these sites, so every task is created.
    lab.copy_database(lab.loaded(), "scored")
    dsn = lab.dsn("scored")
    before = mark_tables(dsn)
    run = full_score(lab, "scored")
    lab.mark_scored()
    written = written_rows(dsn, before)
    read_s, read_rows = full_rescore_read_seconds(dsn, OPERATION)
    write_s = copy_write_seconds(dsn, written)
    floor_s = read_s + write_s
    runs = incremental(lab, "scored")
    wrote = ", ".join(f"{name} {_lines(data):,}" for name, data in sorted(written.items()))
    return [
        versus_floor("full_rescore_s", "Full re-score, 10,000 sites / 100,000 submissions (score_all)",
                     round(run["total_s"], 2), round(floor_s, 2), "s", at_most_x=MAX_FULL_X,
                     note=f"own process, first scoring (tasks created); scoring {run['scoring_s']:.1f} s + "
                          f"task generation {run['tasks_s']:.1f} s; floor: psycopg reads {read_rows:,} rows "
                          f"({read_s:.2f} s) + COPY of the rows it wrote ({write_s:.2f} s: {wrote})",
                     detail={**run, "floor_read_s": read_s, "floor_write_s": write_s}),
        info("full_rescore_scoring_s", "  of which scoring (total minus task generation)",
             round(run["scoring_s"], 2), "s"),
        info("full_rescore_tasks_s", "  of which task generation (tasks.service.generate)",
             round(run["tasks_s"], 2), "s"),
        at_most("full_rescore_peak_mb", "Full re-score peak RSS (process + scoring workers)",
                round(run["peak_rss_mb"]), "MB", MAX_PEAK_MB,
                note=f"upper bound: own peak {run['own_peak_rss_mb']:.0f} MB + {run['workers']} workers x largest "
                     f"worker peak {run['worker_peak_rss_mb']:.0f} MB"),
        versus_floor("incremental_rescore_ms", "Incremental re-score after one submission (median)",
                     round(median(runs.site_ms), 1), round(median(runs.floor_ms), 2), "ms",
                     at_most_x=MAX_INCREMENTAL_X,
                     note=f"the worker's site re-score: rescore_sites(session, [site_id], areas_now=False) + commit "
                          f"(score, its tasks and area tasks, areas marked changed), {len(runs.site_ms)} sites; "
                          f"max {max(runs.site_ms):.0f} ms; floor: the site's interviews read and one score row "
                          "written, plain SQL, commit",
                     detail={"ms": runs.site_ms, "floor_ms": runs.floor_ms}),
        info("incremental_statements", "  SQL statements of that re-score (median; the floor sends 5)",
             median(runs.statements), "statements",
             note="what bounds the ratio: each statement is a round trip to the server"),
        info("incremental_area_round_ms", "  then the round re-scoring its 3 admin areas (median)",
             round(median(runs.area_ms), 1), "ms",
             note="drain_areas: reads every site of the adm1 area above it (~1/4 of the operation); "
                  "once per round for every area changed meanwhile, not once per submission",
             detail={"ms": runs.area_ms}),
    ]


def _lines(copy_text: bytes) -> int:
    return copy_text.count(b"\n")
