"""Admin areas whose sites' scores changed since the area was last scored.

The drain writes site scores in short batches and re-scores the areas above them later,
coalesced and in short transactions of their own (crisis_ct.scoring.area_scoring), so on
SQLite a webhook never waits behind an area roll-up. What guarantees that an area is
re-scored after its sites: the transaction that writes a site's score also counts a change
of the areas above it (`version` + 1), and the row outlives any process that dies in
between. An area is due while `version > scored_version`.

Versions, not a delete-on-done flag or timestamps: the area roll-up reads the areas'
versions and their sites (without the write lock on SQLite), and writes later. If a site
batch committed in between, the version it read is lower than the row's now, so the area
stays due; and a result is stored only when its version is higher than the stored one
(`claim`), so an older read never overwrites a newer result. Clocks of several processes
play no part."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from crisis_ct.db import Base
from crisis_ct.geography.models import AdminArea
from crisis_ct.spatial import SpatialSQL, spatial_sql
from crisis_ct.timeutil import utcnow
from crisis_ct.types import UTCDateTime

_CHUNK = 1000  # ids per IN list


class AreaScoringQueueEntry(Base):
    __tablename__ = "area_scoring_queue"

    admin_area_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_areas.id", ondelete="CASCADE"),
                                               primary_key=True)
    # Changes to the area's sites' scores, counted; the area's current score includes those
    # up to scored_version.
    version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")
    scored_version: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_table = AreaScoringQueueEntry.__table__


def _chunks(items: list) -> Iterable[list]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def mark_changed(session: Session, ids: Iterable[int]) -> None:
    """Count a change of these areas' sites (in the transaction that writes the sites' scores)."""
    ids = sorted(set(ids))
    if not ids:
        return
    now = utcnow()
    session.execute(_count_change(spatial_sql(session)),
                    [{"admin_area_id": id_, "version": 1, "scored_version": 0, "changed_at": now} for id_ in ids])


@lru_cache(maxsize=None)
def _count_change(database: SpatialSQL):
    """A first change of an area, or one more: built once (every re-score of a site runs it)."""
    insert = database.insert(_table)
    return insert.on_conflict_do_update(
        index_elements=["admin_area_id"],
        set_={"version": _table.c.version + 1, "changed_at": insert.excluded.changed_at})


@dataclass(frozen=True)
class DueArea:
    id: int
    operation_id: int
    pcode: str
    level: int
    version: int


def due(session: Session) -> list[DueArea]:
    """The areas with changes not yet in their score, with the version to score them for.
    Read before their sites: a change committed after this read keeps the area due."""
    rows = session.execute(
        sa.select(AdminArea.id, AdminArea.operation_id, AdminArea.pcode, AdminArea.level, _table.c.version)
        .join(_table, _table.c.admin_area_id == AdminArea.id)
        .where(_table.c.version > _table.c.scored_version)
        .order_by(AdminArea.operation_id, AdminArea.id))
    return [DueArea(*row) for row in rows]


def claim(session: Session, versions: Mapping[int, int]) -> set[int]:
    """The areas whose results for these versions are newer than their stored ones, now
    recorded as scored for them; the caller stores exactly those results in this
    transaction. Under the scoring lock (no other writer of scored_version meanwhile)."""
    if not versions:
        return set()
    stored: dict[int, int] = {}
    for chunk in _chunks(sorted(versions)):
        stored.update(session.execute(sa.select(_table.c.admin_area_id, _table.c.scored_version)
                                      .where(_table.c.admin_area_id.in_(chunk))).all())
    newer = sorted(id_ for id_, version in versions.items() if stored.get(id_, version) < version)
    if newer:
        session.execute(sa.update(_table).where(_table.c.admin_area_id == sa.bindparam("area_id"))
                        .values(scored_version=sa.bindparam("scored")),
                        [{"area_id": id_, "scored": versions[id_]} for id_ in newer])
    return set(newer)


def mark_scored(session: Session, ids: Iterable[int]) -> None:
    """These areas were just scored from every committed change (the caller holds the
    scoring lock and read their sites after taking it): nothing of them is due."""
    for chunk in _chunks(sorted(set(ids))):
        session.execute(sa.update(_table).where(_table.c.admin_area_id.in_(chunk),
                                                _table.c.scored_version < _table.c.version)
                        .values(scored_version=_table.c.version))


def waiting(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(_table)
                          .where(_table.c.version > _table.c.scored_version)) or 0
