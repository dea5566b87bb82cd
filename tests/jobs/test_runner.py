"""Scheduled jobs: once at a time across workers, runs recorded, failures retried and
reported (`crisis-ct jobs`, /healthz), a dead worker's job taken over."""
from __future__ import annotations

import threading
import time
from datetime import timedelta


from crisis_ct.cli import main
from crisis_ct.jobs.heartbeat import Heartbeat
from crisis_ct.jobs.models import ScheduledJob, WorkerHeartbeat
from crisis_ct.jobs.registry import Job, every, registered_jobs
from crisis_ct.jobs.runner import JobRunner
from crisis_ct.timeutil import utcnow


def job_row(database, name) -> ScheduledJob:
    with database.session() as session:
        return session.get(ScheduledJob, name)


def runner(app, database, jobs, worker_id="host:1"):
    made = JobRunner(app, database, jobs, worker_id, threading.Event())
    made.prepare()
    return made


def test_the_domains_register_the_jobs_the_issue_lists():
    names = {job.name for job in registered_jobs()}
    assert {"scoring.queue", "scoring.daily", "tasks.expire_claims", "kobo.sync"} <= names
    queue_job, = registered_jobs(["scoring.queue"])
    assert not queue_job.exclusive  # every worker drains; the queue shares itself out


def test_an_exclusive_job_runs_once_although_two_workers_find_it_due(app, database):
    runs = []

    def slow(context):
        runs.append(context.now)
        time.sleep(0.5)
        return "did it"

    job = Job("test.slow", every(minutes=10), slow)
    workers = [runner(app, database, [job], f"host:{n}") for n in (1, 2)]
    threads = [threading.Thread(target=worker.run_due) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(runs) == 1
    row = job_row(database, "test.slow")
    assert row.last_outcome == "ok" and row.last_summary == "did it" and row.consecutive_failures == 0
    assert row.last_duration_ms >= 450 and row.last_finished_at > row.last_started_at
    assert utcnow() < row.next_run_at <= utcnow() + timedelta(minutes=10) and row.running_on is None
    # Not due any more: another round runs nothing.
    workers[1].run_due()
    assert len(runs) == 1


def test_a_failing_job_is_retried_and_reported_as_failing(app, database, client):
    def broken(_context):
        raise RuntimeError("the Kobo server is down")

    job = Job("test.broken", every(hours=24), broken)
    worker = runner(app, database, [job])
    with Heartbeat(database, "host:1"):
        for failures in (1, 2, 3):
            with database.session() as session:
                session.get(ScheduledJob, "test.broken").next_run_at = utcnow()
            worker.run_due()
            row = job_row(database, "test.broken")
            assert row.last_outcome == "failed" and row.consecutive_failures == failures
            assert "the Kobo server is down" in row.last_error
            # Retried well before its daily run, later after each failure.
            assert row.next_run_at < utcnow() + timedelta(hours=1)
        body = client.get("/healthz")
        assert body.status_code == 200
        health = body.get_json()
    assert health["status"] == "degraded"
    assert health["failing_jobs"][0]["name"] == "test.broken"
    assert health["failing_jobs"][0]["consecutive_failures"] == 3
    assert any("test.broken" in problem for problem in health["problems"])

    result = app.test_cli_runner().invoke(main, ["jobs"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "test.broken" in result.output and "failed 3 time(s) in a row: RuntimeError: the Kobo server is down" \
        in result.output


def test_healthz_reports_the_worker_heartbeat_age(app, database, client):
    assert client.get("/healthz").get_json()["problems"] == ["no worker heartbeat"]
    with Heartbeat(database, "host:7"):
        body = client.get("/healthz").get_json()
        assert body["status"] == "ok" and body["worker"]["alive"] == 1
        assert 0 <= body["worker"]["heartbeat_age_s"] < 5
    with database.session() as session:
        session.add(WorkerHeartbeat(worker_id="host:8", started_at=utcnow() - timedelta(hours=1),
                                    beat_at=utcnow() - timedelta(minutes=5)))
    body = client.get("/healthz").get_json()
    assert body["status"] == "degraded" and body["worker"]["alive"] == 0
    assert body["worker"]["heartbeat_age_s"] >= 299


def test_healthz_is_503_only_when_the_database_is_unreachable(tmp_path):
    from crisis_ct.app import create_app

    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@/nowhere?host=/nonexistent",
                      "TESTING": True, "SECRET_KEY": "x"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"


def test_a_job_held_by_a_worker_that_died_is_taken_over(app, database):
    runs = []
    job = Job("test.takeover", every(minutes=10), lambda context: runs.append(1))
    worker = runner(app, database, [job], "host:alive")
    with database.session() as session:  # a worker that died while running it (no heartbeat)
        row = session.get(ScheduledJob, "test.takeover")
        row.running_on, row.running_since = "host:dead", utcnow() - timedelta(hours=1)
    with Heartbeat(database, "host:alive"):
        worker.run_due()
    assert runs == [1]
