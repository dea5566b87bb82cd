"""Sites waiting to be re-scored. Ingestion adds to it in the submission's own
transaction, so a stored submission can never miss its re-scoring; the scoring
worker (or the CLI at the end of a sync/import) drains it."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from crisis_ct.db import Base, is_postgres
from crisis_ct.pg_text import array_literal
from crisis_ct.spatial import spatial_sql
from crisis_ct.timeutil import utcnow
from crisis_ct.types import UTCDateTime


class ScoringQueueEntry(Base):
    __tablename__ = "scoring_queue"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_ENQUEUE_POSTGRES = sa.text(
    "INSERT INTO scoring_queue (site_id, enqueued_at) SELECT unnest(CAST(:ids AS int[])), :now "
    "ON CONFLICT DO NOTHING").bindparams(sa.bindparam("now", type_=UTCDateTime))


def enqueue_sites(session: Session, site_ids: Iterable[int]) -> None:
    ids = sorted(set(site_ids))
    if not ids:
        return
    now = utcnow()
    if is_postgres(session):
        # One statement with one array parameter: a batch of a thousand rows as executemany
        # cost ~20 ms, most of it the driver sending row after row.
        session.execute(_ENQUEUE_POSTGRES, {"ids": array_literal(ids), "now": now})
        return
    statement = spatial_sql(session).insert(ScoringQueueEntry.__table__).on_conflict_do_nothing()
    session.execute(statement, [{"site_id": site_id, "enqueued_at": now} for site_id in ids])


def queued_site_ids(session: Session, limit: int = 500) -> list[int]:
    return list(session.scalars(
        sa.select(ScoringQueueEntry.site_id).order_by(ScoringQueueEntry.enqueued_at).limit(limit)))


def dequeue(session: Session, site_ids: Iterable[int], *, enqueued_before: datetime | None = None) -> None:
    """Remove entries; those re-enqueued after `enqueued_before` stay for the next round."""
    statement = sa.delete(ScoringQueueEntry).where(ScoringQueueEntry.site_id.in_(list(site_ids)))
    if enqueued_before is not None:
        statement = statement.where(ScoringQueueEntry.enqueued_at <= enqueued_before)
    session.execute(statement)
