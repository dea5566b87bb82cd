"""Figure 7: claiming under 50 concurrent experts (HTTP, gunicorn), and task generation."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import orjson
import sqlalchemy as sa

from bench.lab import REPO_ROOT, Lab
from bench.floors import copy_write_seconds, mark_tables, written_rows
from bench.measure import Figure, at_most, info, median, percentile, versus_floor
from bench.served import THREADS, WORKERS, gunicorn
from crisis_ct.db import Database

ROUNDS = 8
MAX_CLAIM_X = 2  # times the p99 of reading the same tasks at the same concurrency
BATCH = 2000  # score_all hands task generation 2,000 sites at a time
PER_SITE_SAMPLE = 500


# Every table that points at a task goes too (history, site lists, applied client requests,
# notifications): listing them by name broke each time a new one was added.
TRUNCATE_TASKS = "TRUNCATE mitigation_tasks CASCADE"


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
        floor = _claimers(port, plan, "--read")
        result = _claimers(port, plan)
    latencies = result["latencies_ms"]
    statuses = result["statuses"]
    reads = floor["latencies_ms"]
    note = (f"{len(experts)} experts x {ROUNDS} rounds, each round at one moment; gunicorn gthread "
            f"{WORKERS}x{THREADS}; p50 {percentile(latencies, 50):.0f} ms, max {max(latencies):.0f} ms; "
            f"statuses {statuses}; floor: GET /api/v1/tasks/{{id}} of the same tasks, same experts and "
            f"rounds (p50 {percentile(reads, 50):.0f} ms, statuses {floor['statuses']})")
    return [versus_floor("claim_p99_ms", "Task claim latency p99, 50 concurrent claimers",
                         round(percentile(latencies, 99), 1), round(percentile(reads, 99), 1), "ms",
                         at_most_x=MAX_CLAIM_X, note=note,
                         detail={"ms": latencies, "statuses": statuses, "floor_ms": reads})]


def _claimers(port: int, plan: Path, *flags: str) -> dict:
    command = [sys.executable, str(Path(__file__).with_name("claimers.py")), "--port", str(port),
               "--plan", str(plan), *flags]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"claimers failed: {done.stderr[-2000:]}")
    return orjson.loads(done.stdout.strip().splitlines()[-1])


def generation(lab: Lab) -> list[Figure]:
    """Tasks for every scored site from the stored current scores, into a copy of the scored
    database whose tasks were removed (so every task is created anew): all sites through the
    batched `tasks.service.generate` (what score_all and the queue use), and a sample one site
    at a time through `generate_for_site` (what a single re-score costs)."""
    from crisis_ct.geography.models import Site
    from crisis_ct.scoring.models import SiteRiskScore
    from crisis_ct.scoring.rules import SiteScore
    from crisis_ct.tasks import service
    from crisis_ct.tasks.board_figures import board_figures
    from crisis_ct.tasks.models import MitigationTask

    url = lab.copy_database(lab.scored(), "taskgen")
    database = Database(url)
    with database.engine.begin() as connection:
        connection.exec_driver_sql(TRUNCATE_TASKS)
        connection.exec_driver_sql("DELETE FROM audit_events WHERE action = 'tasks.generated'")
    service.catalogues()
    with database.session() as session:
        rows = session.execute(
            sa.select(SiteRiskScore.id, SiteRiskScore.site_id, SiteRiskScore.operation_id,
                      SiteRiskScore.explanation, Site.site_type)
            .join(Site, Site.id == SiteRiskScore.site_id).where(SiteRiskScore.is_current)
            .order_by(SiteRiskScore.site_id)).all()
        scores = [(score_id, site_id, operation_id, SiteScore.from_dict(explanation), site_type)
                  for score_id, site_id, operation_id, explanation, site_type in rows]
    all_sites = len(scores)
    now = lab_now()

    before = mark_tables(lab.dsn("taskgen"))
    with database.session() as session:
        started = time.perf_counter()
        for start in range(0, all_sites, BATCH):
            service.generate(session, [
                service.site_scoring(site_id=site_id, operation_id=operation_id, score=score, score_id=score_id,
                                     site_type=site_type, now=now)
                for score_id, site_id, operation_id, score, site_type in scores[start:start + BATCH]], now=now)
        session.commit()
        batched_s = time.perf_counter() - started
        tasks = session.scalar(sa.select(sa.func.count()).select_from(MitigationTask))
        # Site tasks only here (areas are not re-scored): the board as the sites make it.
        board = board_figures(session, scores[0][2]) if scores else None
    floor_s = copy_write_seconds(lab.dsn("taskgen"), written_rows(lab.dsn("taskgen"), before))

    with database.engine.begin() as connection:
        connection.exec_driver_sql(TRUNCATE_TASKS)
    step = max(1, all_sites // PER_SITE_SAMPLE)
    sample = scores[::step][:PER_SITE_SAMPLE]
    with database.session() as session:
        started = time.perf_counter()
        for score_id, site_id, _, score, site_type in sample:
            service.generate_for_site(session, site_id=site_id, score=score, score_id=score_id,
                                      site_type=site_type, now=now)
        session.commit()
        per_site_s = time.perf_counter() - started
    database.dispose()
    return [
        versus_floor("task_generation_s", f"Task generation for {all_sites:,} scored sites (tasks.service.generate)",
                     round(batched_s, 2), round(floor_s, 2), "s",
                     note=f"all {all_sites:,} sites in batches of {BATCH:,} (as score_all), {tasks:,} tasks created "
                          "with their audit events (one per place); from stored scores, no tasks beforehand, commit "
                          "included; floor: COPY of the rows it wrote (reported, no goal: part of the full re-score)",
                     detail={"sites": all_sites, "seconds": batched_s, "tasks": tasks}),
        info("task_generation_per_site_ms", "  one site at a time (generate_for_site), per site",
             round(per_site_s * 1000 / len(sample), 2), "ms",
             note=f"every {step}th site ({len(sample):,} sites, {per_site_s:.1f} s), each its own call; commit once"),
        *board_figure_lines(board),
    ]


def board_figure_lines(board) -> list[Figure]:
    """Issue 12's task-board figures (crisis_ct.tasks.board_figures) for the 10,000-site world."""
    if board is None:
        return []
    return [
        info("task_board_open_per_site", "  open tasks per assessed site (demo goal <= 3)",
             round(board.open_per_assessed_site, 2), "tasks",
             note=f"{board.open_tasks:,} open tasks, {board.assessed_sites:,} assessed sites (site rules; "
                  "M03 comes with the area re-score)", detail=board.to_dict()),
        info("task_board_p1_outside", "  P1 tasks outside phase >= 4 / confirmed critical sites (goal 0)",
             board.p1_outside_urgent_sites, "tasks", note=f"of {board.p1_open_tasks:,} open P1 tasks"),
    ]


def lab_now():
    from crisis_ct.timeutil import utcnow

    return utcnow()


def tasks(lab: Lab) -> list[Figure]:
    return generation(lab) + claims(lab)
