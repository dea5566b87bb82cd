"""Runs the registered jobs when they are due and records each run in `scheduled_jobs`.

The next run is kept in the database, so several workers agree on it: an exclusive job
runs in whichever worker takes its lock first once it is due; the others find it not due
any more. A job that fails is retried before its next scheduled time if that is far off
(FAILURE_RETRY, doubling, at most an hour); after FAILING_AFTER failures in a row it is
reported by /healthz and `crisis-ct jobs`."""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from crisis_ct.db import Database
from crisis_ct.jobs.locks import job_lock
from crisis_ct.jobs.models import ScheduledJob
from crisis_ct.jobs.registry import Job, JobContext
from crisis_ct.timeutil import utcnow

log = logging.getLogger(__name__)

FAILURE_RETRY = timedelta(minutes=1)
# A non-exclusive job (every worker runs it) records an idle run at most this often.
IDLE_RECORD_EVERY = timedelta(seconds=60)


def failure_retry(failures: int) -> timedelta:
    return min(FAILURE_RETRY * 2 ** max(failures - 1, 0), timedelta(hours=1))


class JobRunner:
    def __init__(self, app: Flask, database: Database, jobs: list[Job], worker_id: str, stop: threading.Event):
        self.app, self.database, self.jobs, self.worker_id, self.stop = app, database, jobs, worker_id, stop
        self._local_next: dict[str, datetime] = {}
        self._recorded_at: dict[str, datetime] = {}

    def prepare(self) -> None:
        """A row per job; a new job, or one whose schedule changed, gets its next run from it."""
        now = utcnow()
        with self.database.session() as session:
            rows = {row.name: row for row in session.scalars(sa.select(ScheduledJob))}
            for job in self.jobs:
                row = rows.get(job.name)
                if row is None:
                    session.add(ScheduledJob(name=job.name, schedule=job.schedule, consecutive_failures=0,
                                             next_run_at=job.first_run(now)))
                elif row.schedule != job.schedule:
                    row.schedule, row.next_run_at = job.schedule, job.next_run_after(now)

    def run_due(self) -> float:
        """Runs every due job once; returns the seconds until the next one is due."""
        now = utcnow()
        with self.database.session() as session:
            next_runs = dict(session.execute(sa.select(ScheduledJob.name, ScheduledJob.next_run_at)).all())
        for job in self.jobs:
            if self.stop.is_set():
                break
            if job.exclusive:
                due = next_runs.get(job.name)
                if due is None or due <= now:
                    self._run_exclusive(job)
            elif self._local_next.get(job.name, now) <= now:
                self._run_shared(job)
        return self._seconds_to_next()

    def _seconds_to_next(self) -> float:
        with self.database.session() as session:
            earliest = session.scalar(sa.select(sa.func.min(ScheduledJob.next_run_at)).where(
                ScheduledJob.name.in_([job.name for job in self.jobs if job.exclusive])))
        candidates = [moment for moment in [earliest, *self._local_next.values()] if moment is not None]
        if not candidates:
            return 1.0
        return max((min(candidates) - utcnow()).total_seconds(), 0.0)

    def _run_exclusive(self, job: Job) -> None:
        now = utcnow()
        with job_lock(self.database, job.name, self.worker_id, now) as held:
            if not held:
                return
            with self.database.session() as session:
                row = session.get(ScheduledJob, job.name)
                if row.next_run_at is not None and row.next_run_at > utcnow():
                    return  # another worker ran it between our look and our lock
                row.running_on, row.running_since = self.worker_id, now
            self._record(job, *self._execute(job))

    def _run_shared(self, job: Job) -> None:
        started, finished, summary, error = self._execute(job)
        self._local_next[job.name] = job.next_run_after(finished)
        idle = error is None and not summary
        last = self._recorded_at.get(job.name)
        if idle and last is not None and finished - last < IDLE_RECORD_EVERY:
            return
        self._recorded_at[job.name] = finished
        self._record(job, started, finished, summary, error)

    def _execute(self, job: Job) -> tuple[datetime, datetime, str | None, str | None]:
        started, clock = utcnow(), time.monotonic()
        context = JobContext(self.app, self.database, started, self.stop)
        summary = error = None
        try:
            with self.app.app_context():
                summary = job.run(context)
        except Exception as exc:  # noqa: BLE001 - a failing job is recorded; the worker goes on
            log.exception("job %s failed", job.name)
            error = f"{exc.__class__.__name__}: {exc}"[:2000]
        finished = started + timedelta(seconds=time.monotonic() - clock)
        if summary:
            log.info("job %s: %s", job.name, summary)
        return started, finished, summary, error

    def _record(self, job: Job, started: datetime, finished: datetime, summary: str | None,
                error: str | None) -> None:
        with self.database.session() as session:
            row = session.get(ScheduledJob, job.name)
            row.last_started_at, row.last_finished_at = started, finished
            row.last_duration_ms = int((finished - started).total_seconds() * 1000)
            row.last_outcome = "ok" if error is None else "failed"
            row.last_summary, row.last_error = summary, error
            row.consecutive_failures = 0 if error is None else (row.consecutive_failures or 0) + 1
            if job.exclusive:
                next_run = job.next_run_after(finished)
                if error is not None:
                    next_run = min(next_run, finished + failure_retry(row.consecutive_failures))
                row.next_run_at = next_run
                row.running_on = row.running_since = None
            else:
                row.next_run_at = self._local_next.get(job.name)
