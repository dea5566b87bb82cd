"""The scheduled jobs. Each domain declares its own in its `jobs.py` with one decorated
function, e.g. in crisis_ct/tasks/jobs.py:

    @scheduled("tasks.expire_claims", every(minutes=1))
    def expire(context: JobContext) -> str:
        ...
        return "released 3 claim(s)"

and lists that module in JOB_MODULES below. The function returns a one-line summary of
what it did (kept as the job's last summary) and raises when it fails. Schedules are
APScheduler triggers (interval or cron); the worker keeps the run state in the database
(crisis_ct.jobs.runner), not in APScheduler's job stores."""
from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from crisis_ct.db import Database

# The domains' job modules, imported when the worker starts.
JOB_MODULES = (
    "crisis_ct.scoring.jobs",
    "crisis_ct.tasks.jobs",
    "crisis_ct.kobo.jobs",
    "crisis_ct.accounts.jobs",
    "crisis_ct.notifications.jobs",
)


@dataclass
class JobContext:
    app: Flask
    database: Database
    now: datetime
    stop: threading.Event

    def should_stop(self) -> bool:
        """True once the worker was asked to stop: a long job returns at its next safe point."""
        return self.stop.is_set()

    def sleep(self, seconds: float) -> None:
        self.stop.wait(seconds)


@dataclass(frozen=True)
class Job:
    name: str
    trigger: BaseTrigger
    run: Callable[[JobContext], str | None]
    # False: every worker may run it at the same moment (the scoring queue shares itself out
    # with row locks). True: once at a time across every process and host.
    exclusive: bool = True

    @property
    def schedule(self) -> str:
        return str(self.trigger)

    def next_run_after(self, moment: datetime) -> datetime:
        return self.trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))

    def first_run(self, now: datetime) -> datetime:
        """A job on an interval runs as soon as a worker first sees it; one at set times waits."""
        return now if isinstance(self.trigger, IntervalTrigger) else self.next_run_after(now)


_registry: dict[str, Job] = {}
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def every(*, seconds: float = 0, minutes: float = 0, hours: float = 0) -> IntervalTrigger:
    # Counted from a fixed start, so every worker computes the same run times.
    return IntervalTrigger(seconds=seconds, minutes=minutes, hours=hours, timezone=timezone.utc,
                           start_date=_EPOCH)


def daily(*, hour: int, minute: int = 0) -> CronTrigger:
    return CronTrigger(hour=hour, minute=minute, timezone=timezone.utc)


def scheduled(name: str, trigger: BaseTrigger, *, exclusive: bool = True):
    """Registers the decorated function as the job `name`."""
    def register(function: Callable[[JobContext], str | None]):
        _registry[name] = Job(name, trigger, function, exclusive)
        return function
    return register


def registered_jobs(names: list[str] | tuple[str, ...] | None = None) -> list[Job]:
    """Every registered job (or those named), in name order."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    unknown = sorted(set(names or ()) - set(_registry))
    if unknown:
        raise KeyError(f"no job named {', '.join(unknown)} (known: {', '.join(sorted(_registry))})")
    return [_registry[name] for name in sorted(_registry) if not names or name in names]
