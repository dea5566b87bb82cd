"""Figure 7: claiming under 50 concurrent experts (HTTP, gunicorn), and task generation."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import orjson
import sqlalchemy as sa

from bench.lab import REPO_ROOT, Lab
from bench.measure import Figure, at_most, info, median, percentile
from bench.served import THREADS, WORKERS, gunicorn
from crisis_ct.db import Database

ROUNDS = 8
MAX_CLAIM_P99_MS = 100
MAX_GENERATION_S = 5
# generate_for_site costs ~25 ms a site today: all 10,000 would take minutes, so a fixed
# sample of sites is generated and the time scaled to 10,000 (said so in the figure's note).
GENERATION_SAMPLE = 1000


def claims(lab: Lab) -> list[Figure]:
    from crisis_ct.tasks.models import MitigationTask

    url = lab.copy_database(lab.scored(), "claims")
    experts = list(lab.tokens.experts)
    database = Database(url)
    with database.session() as session:
        open_ids = list(session.scalars(sa.select(MitigationTask.id).where(MitigationTask.status == "open")
                                        .order_by(MitigationTask.id).limit(ROUNDS * len(experts))))
    database.dispose()
    if len(open_ids) < ROUNDS * len(experts):
        raise RuntimeError(f"only {len(open_ids)} open tasks; need {ROUNDS * len(experts)}")
    rounds = [open_ids[r * len(experts):(r + 1) * len(experts)] for r in range(ROUNDS)]
    plan = lab.workdir / "claims.json"
    plan.write_bytes(orjson.dumps({"tokens": experts, "rounds": rounds}))
    with gunicorn(url) as port:
        command = [sys.executable, str(Path(__file__).with_name("claimers.py")), "--port", str(port),
                   "--plan", str(plan)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"claimers failed: {done.stderr[-2000:]}")
    result = orjson.loads(done.stdout.strip().splitlines()[-1])
    latencies = result["latencies_ms"]
    statuses = result["statuses"]
    note = (f"{len(experts)} experts x {ROUNDS} rounds, each round at one moment; gunicorn gthread "
            f"{WORKERS}x{THREADS}; p50 {percentile(latencies, 50):.0f} ms, max {max(latencies):.0f} ms; "
            f"statuses {statuses}")
    return [at_most("claim_p99_ms", "Task claim latency p99, 50 concurrent claimers",
                    round(percentile(latencies, 99), 1), "ms", MAX_CLAIM_P99_MS, note=note,
                    detail={"ms": latencies, "statuses": statuses})]


def generation(lab: Lab) -> list[Figure]:
    """`generate_for_site` for every scored site, from the stored current scores, into a copy
    of the scored database whose tasks were removed (so every task is created anew)."""
    from crisis_ct.geography.models import Site
    from crisis_ct.scoring.models import SiteRiskScore
    from crisis_ct.scoring.rules import SiteScore
    from crisis_ct.tasks.models import MitigationTask
    from crisis_ct.tasks.service import catalogues, generate_for_site

    url = lab.copy_database(lab.scored(), "taskgen")
    database = Database(url)
    with database.engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE mitigation_task_history, mitigation_tasks")
    catalogues()
    with database.session() as session:
        rows = session.execute(
            sa.select(SiteRiskScore.id, SiteRiskScore.site_id, SiteRiskScore.explanation, Site.site_type)
            .join(Site, Site.id == SiteRiskScore.site_id).where(SiteRiskScore.is_current)
            .order_by(SiteRiskScore.site_id)).all()
        all_sites = len(rows)
        step = max(1, all_sites // GENERATION_SAMPLE)
        scores = [(score_id, site_id, SiteScore.from_dict(explanation), site_type)
                  for score_id, site_id, explanation, site_type in rows[::step][:GENERATION_SAMPLE]]
        now = lab_now()
        started = time.perf_counter()
        for score_id, site_id, score, site_type in scores:
            generate_for_site(session, site_id=site_id, score=score, score_id=score_id, site_type=site_type,
                              now=now)
        session.commit()
        seconds = time.perf_counter() - started
        tasks = session.scalar(sa.select(sa.func.count()).select_from(MitigationTask))
    database.dispose()
    scaled = seconds * all_sites / len(scores)
    return [
        at_most("task_generation_s", f"Task generation for {all_sites:,} scored sites (generate_for_site)",
                round(scaled, 2), "s", MAX_GENERATION_S,
                note=f"measured on every {step}th site ({len(scores):,} sites, {seconds:.1f} s, {tasks:,} tasks "
                     f"created), scaled to {all_sites:,}; from stored scores, no tasks beforehand, commit included",
                detail={"sample_sites": len(scores), "sample_seconds": seconds, "tasks": tasks}),
    ]


def lab_now():
    from crisis_ct.timeutil import utcnow

    return utcnow()


def tasks(lab: Lab) -> list[Figure]:
    return generation(lab) + claims(lab)
