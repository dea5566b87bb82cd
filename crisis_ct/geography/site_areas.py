"""Sites with the admin areas their P-codes name, read in one query: scoring, task generation
and the area queue all need both, and a re-score of one site used to look the areas up
three times."""
from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import AdminArea, Site

_SITES = Site.__table__
_PCODES = (_SITES.c.adm1_pcode, _SITES.c.adm2_pcode, _SITES.c.adm3_pcode)


class SiteWithAreas(NamedTuple):
    """Only what scoring, task generation and the area roll-up read of a site (whole Site
    rows would load every geometry)."""
    id: int
    operation_id: int
    site_type: str
    adm1_pcode: str | None
    adm2_pcode: str | None
    adm3_pcode: str | None
    areas: dict[int, int]  # admin level -> id of the operation's admin area a P-code names

    @property
    def pcodes(self) -> tuple[str, ...]:
        return tuple(p for p in (self.adm1_pcode, self.adm2_pcode, self.adm3_pcode) if p)


def sites_with_areas(session: Session, where) -> list[SiteWithAreas]:
    """The sites matching `where` (a condition on Site), in id order."""
    query = sa.select(_SITES.c.id, _SITES.c.operation_id, _SITES.c.site_type, *_PCODES)
    joined = _SITES
    for number, pcode in enumerate(_PCODES, start=1):
        # An area per P-code column, found by P-code (unique in an operation); its level is
        # the area's own, as the admin boundaries say.
        area = AdminArea.__table__.alias(f"adm{number}_area")
        joined = joined.outerjoin(area, sa.and_(area.c.operation_id == _SITES.c.operation_id,
                                                area.c.pcode == pcode))
        query = query.add_columns(area.c.level, area.c.id)
    rows = session.execute(query.select_from(joined).where(where).order_by(_SITES.c.id))
    return [SiteWithAreas(*row[:6], _areas_by_level(row[6:])) for row in rows]


def _areas_by_level(levels_and_ids) -> dict[int, int]:
    pairs = zip(levels_and_ids[::2], levels_and_ids[1::2])
    return {level: area_id for level, area_id in pairs if area_id is not None}
