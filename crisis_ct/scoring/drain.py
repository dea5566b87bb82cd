"""Draining the scoring queue: small batches, each its own committed transaction.

Any number of drainers (workers on several hosts, `kobo sync`, `kobo import`) may run at
once: every transaction that writes scores first takes the scoring lock (PostgreSQL: an
advisory transaction lock; SQLite runs one writer at a time anyway), and the queue rows
it takes are locked FOR UPDATE SKIP LOCKED, so no site is scored twice and no two
transactions flip the same "current" score row. The lock is always taken before the
queue rows, so a drainer and a full re-score cannot deadlock.

A batch whose re-scoring fails is retried site by site (a savepoint each): the failing
site gets its error and a retry time in the queue, the others are stored. On SQLite a
batch is kept short (about SQLITE_BATCH_SECONDS), followed by a pause, and the next one
starts when no other writer waits for the lock (crisis_ct.sqlite_writers), so a webhook
waiting for the write lock waits for at most one batch.

A batch writes its sites' scores and marks the admin areas above them changed
(crisis_ct.scoring.area_queue); the areas are re-scored in rounds of their own, every
AREA_ROUND_SECONDS and when the queue is empty: the roll-up of an admin-1 area reads
thousands of sites (~100 ms on SQLite), once per round instead of once per batch, in a
transaction that takes no write lock, and its results are written in short transactions.
A drainer that dies between leaves the areas marked: the next round scores them."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.db import advisory_lock, is_postgres, let_waiting_writers_go_first, read_only, transaction_lock
from crisis_ct.scoring import queue
from crisis_ct.scoring.area_scoring import read_due_areas, store_due_areas
from crisis_ct.scoring.current import SCORING_LOCK
from crisis_ct.scoring.service import rescore_sites
from crisis_ct.timeutil import utcnow

log = logging.getLogger(__name__)

POSTGRES_BATCH = 200
SQLITE_FIRST_BATCH = 10
SQLITE_BATCH_SECONDS = 0.04
# After each batch, a moment for the writers waiting meanwhile (webhooks) to take the lock
# (crisis_ct.sqlite_writers hands it over within a millisecond) before the next batch;
# and the next batch waits while writers still wait for the lock (on a busy machine a
# waiter may not run within the pause), but at most SQLITE_YIELD_SECONDS.
SQLITE_PAUSE_SECONDS = 0.02
SQLITE_YIELD_SECONDS = 0.5
# Admin-area rounds: how often during a drain, how many results one short transaction
# stores, and the lock that lets one drainer at a time compute them (PostgreSQL).
AREA_ROUND_SECONDS = 5.0
AREA_STORE_BATCH = 50
AREA_ROUND_LOCK = "crisis_ct.scoring.areas"

Rescore = Callable[[Session, list[int], datetime], object]


@dataclass
class DrainResult:
    rescored: int = 0
    batches: int = 0
    areas: int = 0  # admin-area results stored
    failures: list[tuple[int, int, str]] = field(default_factory=list)  # (site_id, attempts, error)

    @property
    def parked(self) -> list[int]:
        return [site_id for site_id, attempts, _ in self.failures if attempts >= queue.MAX_ATTEMPTS]


def _rescore_sites(session: Session, site_ids: list[int], now: datetime) -> None:
    rescore_sites(session, site_ids, now=now, areas_now=False)


def drain_queue(session: Session, *, batch: int | None = None, rescore: Rescore | None = None,
                should_stop: Callable[[], bool] = lambda: False,
                sleep: Callable[[float], None] = time.sleep) -> DrainResult:
    """Re-score every due queued site, one committed batch at a time, and then the admin
    areas above them. Commits what the session holds first: each batch must be a
    transaction of its own."""
    rescore = rescore or _rescore_sites
    postgres = is_postgres(session)
    size = batch or (POSTGRES_BATCH if postgres else SQLITE_FIRST_BATCH)
    result = DrainResult()
    session.commit()
    last_round = time.monotonic()
    while not should_stop():
        if not postgres:
            let_waiting_writers_go_first(session, SQLITE_YIELD_SECONDS)
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
        if time.monotonic() - last_round >= AREA_ROUND_SECONDS:
            result.areas += drain_areas(session, wait=False, sleep=sleep)
            last_round = time.monotonic()
    if not should_stop():
        result.areas += drain_areas(session, wait=True, sleep=sleep)
    return result


def drain_areas(session: Session, *, wait: bool = True, now: datetime | None = None,
                sleep: Callable[[float], None] = time.sleep) -> int:
    """Re-score the admin areas marked changed: scored in a transaction that only reads,
    stored AREA_STORE_BATCH at a time, each batch committed (after a pause on SQLite).
    `wait`: wait for another drainer's round (PostgreSQL) instead of leaving it the work.
    Returns how many area results were stored."""
    with advisory_lock(session.get_bind(), AREA_ROUND_LOCK, wait=wait) as held:
        if not held:
            return 0
        now = now or utcnow()
        with read_only(session):
            scored = read_due_areas(session, now)
        stored = 0
        for start in range(0, len(scored), AREA_STORE_BATCH):
            if not is_postgres(session):
                if start:
                    sleep(SQLITE_PAUSE_SECONDS)
                let_waiting_writers_go_first(session, SQLITE_YIELD_SECONDS)
            try:
                stored += store_due_areas(session, scored[start:start + AREA_STORE_BATCH], now)
                session.commit()
            except BaseException:
                session.rollback()
                raise
        return stored


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
