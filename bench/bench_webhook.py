"""Figure 4: the Kobo webhook under load, served by gunicorn, driven from another process."""
from __future__ import annotations

import orjson

from bench.lab import Lab
from bench.measure import Figure, info, versus_floor
from bench.served import THREADS, WORKERS, gunicorn, load

PATH = "/api/v1/kobo/submissions"
CONCURRENCY = 8
MAX_SECONDS = 20
REQUESTS = 7000  # bound: at most this many, or MAX_SECONDS, whichever comes first
WARMUP = 200
MIN_RATE_X = 0.5  # of /healthz's rate through the same gunicorn and load generator
MAX_P99_X = 2


def webhook(lab: Lab) -> list[Figure]:
    database = lab.copy_database(lab.scored(), "webhook")
    lab.log(f"generating {REQUESTS + WARMUP:,} new submissions for the webhook")
    records = lab.fresh_records(REQUESTS + WARMUP, first_kobo_id=10_000_000, seed=4)
    bodies = [orjson.dumps(record) for record in records]
    with gunicorn(database) as port:
        result = load(port, token=lab.tokens.submitter, bodies=bodies, path=PATH, concurrency=CONCURRENCY,
                      max_seconds=MAX_SECONDS, warmup=WARMUP, workdir=lab.workdir, name="webhook")
        floor = load(port, token=lab.tokens.submitter, requests=REQUESTS + WARMUP, path="/healthz", method="GET",
                     concurrency=CONCURRENCY, max_seconds=MAX_SECONDS, warmup=WARMUP, workdir=lab.workdir,
                     name="healthz")
    created = result["statuses"].get("201", 0)
    setup = (f"gunicorn gthread {WORKERS} workers x {THREADS} threads; loadgen.py, {CONCURRENCY} keep-alive "
             f"connections, closed loop, {result['count']:,} requests in {result['seconds']:.1f} s")
    if created != result["count"]:
        setup += f"; statuses {result['statuses']}"
    return [
        versus_floor("webhook_rate", "Webhook throughput (POST /api/v1/kobo/submissions)", round(result["rate"]),
                     round(floor["rate"]), "requests/s", at_least_x=MIN_RATE_X,
                     note=f"{setup}; floor: GET /healthz, same gunicorn and load generator",
                     detail={**result, "floor": floor}),
        info("webhook_p50_ms", "  webhook latency p50", round(result["p50_ms"], 1), "ms"),
        info("webhook_p95_ms", "  webhook latency p95", round(result["p95_ms"], 1), "ms"),
        versus_floor("webhook_p99_ms", "  webhook latency p99", round(result["p99_ms"], 1),
                     round(floor["p99_ms"], 2), "ms", at_most_x=MAX_P99_X,
                     note=f"max {result['max_ms']:.0f} ms; floor: /healthz p99"),
    ]
