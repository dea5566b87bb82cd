"""Which site a submission is about: by its site id, else the nearest site to its
geopoint within a set distance (flagged as matched by location)."""
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
        self._by_code: dict[str, int] | None = None

    def _codes(self) -> dict[str, int]:
        if self._by_code is None:
            self._by_code = dict(self.session.execute(
                sa.select(Site.site_code, Site.id).where(Site.operation_id == self.operation_id)).all())
        return self._by_code

    def preload(self) -> None:
        """For batches: one query for every site id instead of one per submission."""
        self._codes()

    def match(self, site_code: str | None, geopoint: tuple[float, float] | None) -> SiteMatch | None:
        if site_code:
            site_id = self._lookup_code(site_code.strip())
            if site_id is not None:
                return SiteMatch(site_id, "site_id")
        if geopoint is not None:
            lat, lon = geopoint[0], geopoint[1]
            site_id = self._nearest(lon, lat)
            if site_id is not None:
                return SiteMatch(site_id, "location")
        return None

    def _lookup_code(self, code: str) -> int | None:
        if self._by_code is not None:
            return self._by_code.get(code)
        return self.session.scalar(sa.select(Site.id).where(Site.operation_id == self.operation_id,
                                                            Site.site_code == code))

    def _nearest(self, lon: float, lat: float) -> int | None:
        builder = spatial_sql(self.session)
        table = Site.__table__
        distance = builder.distance_m(table.c.geom, lon, lat)
        return self.session.scalar(
            sa.select(table.c.id)
            .where(table.c.operation_id == self.operation_id,
                   builder.within_m(table, table.c.geom, lon, lat, self.max_distance_m))
            .order_by(distance).limit(1))
