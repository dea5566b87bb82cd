"""Which site a submission is about when it names no site id: the nearest site to its
geopoint within a set distance (flagged as matched by location). Site ids themselves are
looked up by the Ingestor's prefetch, a batch at a time; a site id that names no known
site is never matched by location (quarantined, with the nearest sites as suggestions)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import Site
from crisis_ct.spatial import spatial_sql


@dataclass(frozen=True)
class SiteMatch:
    site_id: int
    matched_by: str  # site_id | location


class SiteMatcher:
    def __init__(self, session: Session, operation_id: int, max_distance_m: float):
        self.session = session
        self.operation_id = operation_id
        self.max_distance_m = max_distance_m

    def match_location(self, geopoint: tuple[float, float] | None) -> SiteMatch | None:
        if geopoint is None:
            return None
        lat, lon = geopoint[0], geopoint[1]
        site_id = self._nearest(lon, lat)
        return SiteMatch(site_id, "location") if site_id is not None else None

    def _nearest(self, lon: float, lat: float) -> int | None:
        builder = spatial_sql(self.session)
        table = Site.__table__
        distance = builder.distance_m(table.c.geom, lon, lat)
        return self.session.scalar(
            sa.select(table.c.id)
            .where(table.c.operation_id == self.operation_id,
                   builder.within_m(table, table.c.geom, lon, lat, self.max_distance_m))
            .order_by(distance).limit(1))

    def nearest(self, geopoint: tuple[float, float] | None, limit: int = 3) -> list[dict]:
        """The known sites nearest to `geopoint`, at any distance: suggestions for a person
        resolving a submission, never a match."""
        if geopoint is None:
            return []
        lat, lon = geopoint[0], geopoint[1]
        builder = spatial_sql(self.session)
        table = Site.__table__
        distance = builder.distance_m(table.c.geom, lon, lat)
        rows = self.session.execute(
            sa.select(table.c.site_code, table.c.name, distance.label("distance"))
            .where(table.c.operation_id == self.operation_id).order_by(distance).limit(limit)).all()
        return [{"site_id": code, "name": name, "distance_m": round(float(metres), 1)} for code, name, metres in rows]
