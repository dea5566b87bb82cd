"""Once at a time across every process and host: the lock a worker holds while it runs an
exclusive job.

PostgreSQL: a session advisory lock on a connection kept for the run; if the worker dies,
its connection closes and the server releases the lock. SQLite (one machine): the job's
row names the worker running it; a row naming a worker whose heartbeat has stopped (and
that has held it a while) is taken over, so a killed worker does not hold a job for ever."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

import sqlalchemy as sa

from crisis_ct.db import Database, advisory_lock
from crisis_ct.jobs.models import ScheduledJob, WorkerHeartbeat

# A worker beats every HEARTBEAT_SECONDS (crisis_ct.jobs.heartbeat); silent this long, it is gone.
HEARTBEAT_SECONDS = 10.0
STALE_AFTER = timedelta(seconds=6 * HEARTBEAT_SECONDS)


@contextmanager
def job_lock(database: Database, name: str, worker_id: str, now: datetime) -> Iterator[bool]:
    """Yields True when this worker holds the job's lock, False when another one does."""
    if database.dialect == "postgresql":
        with advisory_lock(database.engine, f"crisis_ct.job:{name}", wait=False) as held:
            yield held
        return
    held = _take_row(database, name, worker_id, now)
    try:
        yield held
    finally:
        if held:
            _give_row_back(database, name, worker_id)


def _take_row(database: Database, name: str, worker_id: str, now: datetime) -> bool:
    alive = sa.select(WorkerHeartbeat.worker_id).where(WorkerHeartbeat.beat_at > now - STALE_AFTER)
    with database.session() as session:
        taken = session.execute(
            sa.update(ScheduledJob)
            .where(ScheduledJob.name == name,
                   sa.or_(ScheduledJob.running_on.is_(None), ScheduledJob.running_on == worker_id,
                          sa.and_(ScheduledJob.running_on.not_in(alive),
                                  ScheduledJob.running_since < now - STALE_AFTER)))
            .values(running_on=worker_id, running_since=now)
            .execution_options(synchronize_session=False))
        return taken.rowcount == 1


def _give_row_back(database: Database, name: str, worker_id: str) -> None:
    with database.session() as session:
        session.execute(sa.update(ScheduledJob)
                        .where(ScheduledJob.name == name, ScheduledJob.running_on == worker_id)
                        .values(running_on=None, running_since=None)
                        .execution_options(synchronize_session=False))
