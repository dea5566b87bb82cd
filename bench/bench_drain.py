"""Figure: the Kobo webhook on the embedded database (SQLite) while a worker drains a
10,000-site scoring queue — a webhook must wait for at most one of the worker's batches."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import sqlalchemy as sa

from bench.lab import Lab, _make_records, ingest_batches, read_site_infos
from bench.measure import Figure, at_most, info
from bench.served import gunicorn, load

PATH = "/api/v1/kobo/submissions"
CONCURRENCY = 2
MAX_SECONDS = 20
REQUESTS = 3000
WARMUP = 50
MAX_P99_MS = 250


def webhook_during_drain(lab: Lab) -> list[Figure]:
    from crisis_ct.db import Database, upgrade
    from crisis_ct.scoring.queue import ScoringQueueEntry

    # The geography first: shapely's GEOS and the one SpatiaLite brings clash in one process
    # (a segmentation fault in shapely once mod_spatialite is loaded).
    sites = read_site_infos(lab.geography() / "sites.csv")
    url = f"sqlite:///{lab.workdir / 'drain.sqlite'}"
    database = Database(url)
    upgrade(database)
    lab.log("SQLite: the demo country at 10,000 sites, one submission each (all queued)")
    lab.import_geography(database)
    saved_tokens = lab.tokens
    lab.tokens = type(saved_tokens)()
    try:
        with database.session() as session:
            lab._register_asset(session)
            lab._add_users(session)
        submitter = lab.tokens.submitter
    finally:
        lab.tokens = saved_tokens
    ingest_batches(database, _make_records((sites, 50_000_000), per_site=1, seed=9), via="webhook")

    def queued() -> int:
        with database.session() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(ScoringQueueEntry))

    before = queued()
    bodies = [orjson.dumps(r) for r in lab.fresh_records(REQUESTS + WARMUP, first_kobo_id=60_000_000, seed=11)]
    env = {**os.environ, "CRISIS_CT_DATABASE_URL": url, "CRISIS_CT_SECRET_KEY": "bench",
           "CRISIS_CT_VAR_DIR": str(lab.workdir / "var")}
    with gunicorn(url) as port:
        worker = subprocess.Popen([str(Path(sys.executable).parent / "crisis-ct"), "worker", "--job", "scoring.queue"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(2)  # the worker is draining
            started = time.monotonic()
            result = load(port, token=submitter, bodies=bodies, path=PATH, concurrency=CONCURRENCY,
                          max_seconds=MAX_SECONDS, warmup=WARMUP, workdir=lab.workdir, name="drain-webhook")
            seconds = time.monotonic() - started
            left = queued()
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    database.dispose()
    drained_note = f"queue {before:,} sites; {left:,} still queued after the load ({seconds:.0f} s)"
    setup = (f"SQLite; `crisis-ct worker --job scoring.queue` draining; loadgen.py {CONCURRENCY} keep-alive "
             f"connections, closed loop, {result['count']:,} webhooks in {result['seconds']:.1f} s, "
             f"statuses {result['statuses']}; {drained_note}")
    return [
        at_most("drain_webhook_p99_ms", "Webhook p99 on SQLite during a 10,000-site drain",
                round(result["p99_ms"], 1), "ms", MAX_P99_MS, note=setup, detail=result),
        info("drain_webhook_p50_ms", "  webhook p50 during the drain", round(result["p50_ms"], 1), "ms"),
        info("drain_webhook_max_ms", "  webhook max during the drain", round(result["max_ms"], 1), "ms"),
        info("drain_sites_left", "  sites still queued after the load", left, "sites", note=drained_note),
    ]
