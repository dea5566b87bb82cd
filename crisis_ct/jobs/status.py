"""What the background work looks like now, for `crisis-ct jobs` and /healthz."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.jobs.locks import STALE_AFTER
from crisis_ct.jobs.models import ScheduledJob, WorkerHeartbeat
from crisis_ct.scoring.queue import QueueState, queue_state

# A job that failed this many times in a row is "failing" (/healthz: degraded).
FAILING_AFTER = 3


@dataclass(frozen=True)
class BackgroundState:
    jobs: list[ScheduledJob]
    live_workers: int
    heartbeat_age_s: float | None  # of the newest heartbeat; None: no worker ever beat
    queue: QueueState

    @property
    def failing_jobs(self) -> list[ScheduledJob]:
        return [job for job in self.jobs if (job.consecutive_failures or 0) >= FAILING_AFTER]

    def problems(self) -> list[str]:
        found = []
        if not self.live_workers:
            found.append("no worker heartbeat" if self.heartbeat_age_s is None
                         else f"no worker heartbeat for {self.heartbeat_age_s:.0f} s")
        found += [f"job {job.name} failed {job.consecutive_failures} times in a row" for job in self.failing_jobs]
        if self.queue.parked_total:
            found.append(f"{self.queue.parked_total} site(s) parked after failing to re-score")
        return found


def background_state(session: Session, now: datetime) -> BackgroundState:
    jobs = list(session.scalars(sa.select(ScheduledJob).order_by(ScheduledJob.name)))
    newest = session.scalar(sa.select(WorkerHeartbeat.beat_at).order_by(WorkerHeartbeat.beat_at.desc()).limit(1))
    live = session.scalar(sa.select(sa.func.count()).select_from(WorkerHeartbeat)
                          .where(WorkerHeartbeat.beat_at > now - STALE_AFTER)) or 0
    age = None if newest is None else max((now - newest).total_seconds(), 0.0)
    return BackgroundState(jobs, live, age, queue_state(session))
