"""Draining the scoring queue: small batches, each its own committed transaction.

Any number of drainers (workers on several hosts, `kobo sync`, `kobo import`) may run at
once: every transaction that writes scores first takes the scoring lock (PostgreSQL: an
advisory transaction lock; SQLite runs one writer at a time anyway), and the queue rows
it takes are locked FOR UPDATE SKIP LOCKED, so no site is scored twice and no two
transactions flip the same "current" score row. The lock is always taken before the
queue rows, so a drainer and a full re-score cannot deadlock.

A batch whose re-scoring fails is retried site by site (a savepoint each): the failing
site gets its error and a retry time in the queue, the others are stored. On SQLite a
batch is kept short (about SQLITE_BATCH_SECONDS) and followed by a pause, so a webhook
waiting for the write lock waits for at most one batch."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.db import is_postgres, transaction_lock
from crisis_ct.scoring import queue
from crisis_ct.scoring.service import SCORING_LOCK, rescore_sites
from crisis_ct.timeutil import utcnow

log = logging.getLogger(__name__)

POSTGRES_BATCH = 200
SQLITE_FIRST_BATCH = 10
SQLITE_BATCH_SECONDS = 0.04
# After each batch, a moment for the writers waiting meanwhile (webhooks) to take the lock
# (crisis_ct.sqlite_writers hands it over within a millisecond) before the next batch.
SQLITE_PAUSE_SECONDS = 0.02

Rescore = Callable[[Session, list[int], datetime], object]


@dataclass
class DrainResult:
    rescored: int = 0
    batches: int = 0
    failures: list[tuple[int, int, str]] = field(default_factory=list)  # (site_id, attempts, error)

    @property
    def parked(self) -> list[int]:
        return [site_id for site_id, attempts, _ in self.failures if attempts >= queue.MAX_ATTEMPTS]


def _rescore_sites(session: Session, site_ids: list[int], now: datetime) -> None:
    rescore_sites(session, site_ids, now=now)


def drain_queue(session: Session, *, batch: int | None = None, rescore: Rescore | None = None,
                should_stop: Callable[[], bool] = lambda: False,
                sleep: Callable[[float], None] = time.sleep) -> DrainResult:
    """Re-score every due queued site, one committed batch at a time. Commits what the
    session holds first: each batch must be a transaction of its own."""
    rescore = rescore or _rescore_sites
    postgres = is_postgres(session)
    size = batch or (POSTGRES_BATCH if postgres else SQLITE_FIRST_BATCH)
    result = DrainResult()
    session.commit()
    while not should_stop():
        started = time.monotonic()
        try:
            taken = _one_batch(session, size, rescore, result)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        if not taken:
            break
        result.batches += 1
        if not postgres and taken == size:
            elapsed = time.monotonic() - started
            if batch is None:
                size = _next_sqlite_size(size, elapsed)
            sleep(SQLITE_PAUSE_SECONDS)
    return result


def _next_sqlite_size(size: int, elapsed: float) -> int:
    """Aim each batch at SQLITE_BATCH_SECONDS on this machine and data."""
    wanted = size * SQLITE_BATCH_SECONDS / max(elapsed, 1e-3)
    return int(min(max(wanted, size / 2, 1), size * 2, 500))


def _one_batch(session: Session, size: int, rescore: Rescore, result: DrainResult) -> int:
    now = utcnow()
    transaction_lock(session, SCORING_LOCK)
    taken = queue.take_due(session, size, now)
    if not taken:
        return 0
    fresh = [item.site_id for item in taken if item.attempts == 0]
    # Sites that failed before go one by one, so a poison site does not sink a batch twice.
    suspects = [item.site_id for item in taken if item.attempts > 0]
    done: list[int] = []
    errors: dict[int, str] = {}
    if fresh:
        error = _try(session, rescore, fresh, now)
        if error is None:
            done = fresh
        elif len(fresh) == 1:
            errors[fresh[0]] = error
        else:
            suspects = fresh + suspects
    for site_id in suspects:
        error = _try(session, rescore, [site_id], now)
        if error is None:
            done.append(site_id)
        else:
            errors[site_id] = error
    for site_id, error in errors.items():
        attempts = queue.record_failure(session, site_id, error, now)
        result.failures.append((site_id, attempts, error))
        log.warning("re-scoring site %s failed (attempt %s%s): %s", site_id, attempts,
                    ", parked" if attempts >= queue.MAX_ATTEMPTS else "", error)
    queue.dequeue(session, done)
    result.rescored += len(done)
    return len(taken)


def _try(session: Session, rescore: Rescore, site_ids: list[int], now: datetime) -> str | None:
    """Re-score in a savepoint; the error text if it failed (its writes undone). A lost
    connection is no fault of the sites: it propagates."""
    try:
        with session.begin_nested():
            rescore(session, site_ids, now)
    except sa.exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise
        return f"{exc.__class__.__name__}: {exc.orig}"
    except Exception as exc:  # noqa: BLE001 - any failure of one site must not stop the others
        return f"{exc.__class__.__name__}: {exc}"
    return None
