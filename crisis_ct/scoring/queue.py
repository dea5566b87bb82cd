"""Sites waiting to be re-scored. Ingestion adds to it in the submission's own
transaction, so a stored submission can never miss its re-scoring; the worker (or the
CLI at the end of a sync/import) drains it batch by batch (crisis_ct.scoring.drain).

A row is one site. Queueing a site again moves its `enqueued_at` and makes it due now,
so a submission stored while the site is being re-scored queues it for another round.
A site whose re-scoring fails keeps its row with the error and a retry time; after
MAX_ATTEMPTS failures it is parked (retried hourly, then daily) and visible in
`crisis-ct jobs` and /healthz, while the other sites go on."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from crisis_ct.db import Base, is_postgres
from crisis_ct.pg_text import array_literal
from crisis_ct.spatial import spatial_sql
from crisis_ct.timeutil import utcnow
from crisis_ct.types import UTCDateTime

MAX_ATTEMPTS = 3


class ScoringQueueEntry(Base):
    __tablename__ = "scoring_queue"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # Not taken before this time (a failed site waiting for its retry); None: due now.
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


_ENQUEUE_POSTGRES = sa.text(
    "INSERT INTO scoring_queue (site_id, enqueued_at, attempts) SELECT unnest(CAST(:ids AS int[])), :now, 0 "
    "ON CONFLICT (site_id) DO UPDATE SET enqueued_at = EXCLUDED.enqueued_at, retry_at = NULL"
).bindparams(sa.bindparam("now", type_=UTCDateTime))


def enqueue_sites(session: Session, site_ids: Iterable[int]) -> None:
    """Queue these sites (again). A queued site's row moves to now and becomes due: a
    worker re-scoring it at this moment holds its row (PostgreSQL: FOR UPDATE), so this
    waits for that batch and the site is queued once more for the new data. A failed
    site keeps its attempt count: new data may cure it, but it is not forgiven yet."""
    ids = sorted(set(site_ids))
    if not ids:
        return
    now = utcnow()
    if is_postgres(session):
        # One statement with one array parameter: a batch of a thousand rows as executemany
        # cost ~20 ms, most of it the driver sending row after row.
        session.execute(_ENQUEUE_POSTGRES, {"ids": array_literal(ids), "now": now})
        return
    insert = spatial_sql(session).insert(ScoringQueueEntry.__table__)
    statement = insert.on_conflict_do_update(
        index_elements=["site_id"], set_={"enqueued_at": insert.excluded.enqueued_at, "retry_at": None})
    session.execute(statement, [{"site_id": site_id, "enqueued_at": now, "attempts": 0} for site_id in ids])


@dataclass(frozen=True)
class TakenSite:
    site_id: int
    attempts: int


def take_due(session: Session, limit: int, now: datetime) -> list[TakenSite]:
    """The oldest due sites, locked for this transaction. PostgreSQL skips rows another
    drainer holds (FOR UPDATE SKIP LOCKED); SQLite's transactions already run one at a time."""
    query = (sa.select(ScoringQueueEntry.site_id, ScoringQueueEntry.attempts)
             .where(sa.or_(ScoringQueueEntry.retry_at.is_(None), ScoringQueueEntry.retry_at <= now))
             .order_by(ScoringQueueEntry.enqueued_at, ScoringQueueEntry.site_id).limit(limit)
             .with_for_update(skip_locked=True))
    return [TakenSite(site_id, attempts) for site_id, attempts in session.execute(query)]


def queued_site_ids(session: Session, limit: int = 500) -> list[int]:
    return list(session.scalars(
        sa.select(ScoringQueueEntry.site_id).order_by(ScoringQueueEntry.enqueued_at).limit(limit)))


def dequeue(session: Session, site_ids: Iterable[int], *, enqueued_before: datetime | None = None) -> None:
    """Remove entries; those re-enqueued after `enqueued_before` stay for the next round."""
    ids = list(site_ids)
    for start in range(0, len(ids), 1000):
        statement = sa.delete(ScoringQueueEntry).where(ScoringQueueEntry.site_id.in_(ids[start:start + 1000]))
        if enqueued_before is not None:
            statement = statement.where(ScoringQueueEntry.enqueued_at <= enqueued_before)
        session.execute(statement)


def retry_delay(attempts: int) -> timedelta:
    """After the 1st and 2nd failure a quick retry (a passing cause: a lock, a restart);
    parked from the 3rd: an hour, doubling up to a day."""
    if attempts < MAX_ATTEMPTS:
        return timedelta(seconds=30 * attempts)
    return min(timedelta(hours=2 ** (attempts - MAX_ATTEMPTS)), timedelta(days=1))


def record_failure(session: Session, site_id: int, error: str, now: datetime) -> int:
    """Count a failed re-scoring of this (locked) site; returns its attempts so far."""
    entry = session.get(ScoringQueueEntry, site_id)
    if entry is None:
        return 0
    entry.attempts += 1
    entry.last_error = error[:2000]
    entry.retry_at = now + retry_delay(entry.attempts)
    session.flush()
    return entry.attempts


@dataclass(frozen=True)
class QueueState:
    waiting: int          # never failed
    retrying: int         # failed, fewer than MAX_ATTEMPTS times
    parked_total: int     # failed MAX_ATTEMPTS times or more
    parked: list[ScoringQueueEntry]  # the first few of them, with their errors


def _count_where(condition) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def queue_state(session: Session, *, parked_limit: int = 20) -> QueueState:
    attempts = ScoringQueueEntry.attempts
    waiting, retrying, parked_total = session.execute(sa.select(
        _count_where(attempts == 0), _count_where(sa.and_(attempts > 0, attempts < MAX_ATTEMPTS)),
        _count_where(attempts >= MAX_ATTEMPTS))).one()
    parked = list(session.scalars(
        sa.select(ScoringQueueEntry).where(attempts >= MAX_ATTEMPTS)
        .order_by(ScoringQueueEntry.site_id).limit(parked_limit)))
    return QueueState(int(waiting), int(retrying), int(parked_total), parked)
