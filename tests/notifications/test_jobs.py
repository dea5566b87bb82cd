"""The notifications in the worker, on both databases: its scheduled jobs find the events
and mail them, and two workers running at once mail each notification once."""
from __future__ import annotations

import threading

import pytest

from crisis_ct.jobs.registry import registered_jobs
from crisis_ct.jobs.runner import JobRunner
from crisis_ct.timeutil import utcnow
from tests.notifications.smtp_server import LocalSmtp


@pytest.fixture
def smtp():
    server = LocalSmtp().start()
    yield server
    server.stop()


def test_the_worker_registers_detection_and_sending():
    detect, send = registered_jobs(["notifications.detect", "notifications.send"])
    assert detect.exclusive  # one detector at a time (its scan mark)
    assert not send.exclusive  # every worker may send: rows are taken one worker at a time


def test_two_workers_detect_and_mail_each_notification_once(app, world, smtp):
    app.config.update(SMTP_URL=smtp.url, PUBLIC_URL="https://ct.example.org")
    world.p1_task("S2", now=utcnow())
    jobs = registered_jobs(["notifications.detect", "notifications.send"])
    workers = [JobRunner(app, world.database, jobs, f"host:{n}", threading.Event()) for n in (1, 2)]
    for worker in workers:
        worker.prepare()
    smtp.handler.delay_seconds = 0.2
    barrier = threading.Barrier(2)

    def run(worker):
        barrier.wait()
        for _ in range(3):
            worker.run_due()
            worker._local_next.clear()  # noqa: SLF001 - send again at once, as a busy worker would

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    [thread.start() for thread in threads]
    [thread.join(timeout=60) for thread in threads]
    rows = world.rows("task_new_match")
    assert {row.email_status for row in rows} == {"sent"}
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        ["cp@op1.org", "cp-fr@op1.org", "cp-near@op1.org"])


def test_a_mail_server_that_takes_nothing_makes_the_send_job_fail_visibly(app, world, smtp):
    from crisis_ct.jobs.models import ScheduledJob

    app.config.update(SMTP_URL=smtp.url)
    world.p1_task("S2", now=utcnow())
    smtp.handler.refuse_with = "451 4.3.0 Try again later"
    jobs = registered_jobs(["notifications.detect", "notifications.send"])
    worker = JobRunner(app, world.database, jobs, "host:1", threading.Event())
    worker.prepare()
    worker.run_due()
    with world.database.session() as session:
        row = session.get(ScheduledJob, "notifications.send")
        assert row.last_outcome == "failed" and row.consecutive_failures == 1
        assert "the mail server took nothing" in row.last_error and "to retry" in row.last_error
    assert {r.email_status for r in world.rows("task_new_match")} == {"pending"}
