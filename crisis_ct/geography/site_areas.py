"""Sites with the admin areas their P-codes name, read in one query: scoring, task generation
and the area queue all need both, and a re-score of one site used to look the areas up
three times."""
from __future__ import annotations

from functools import cache
from typing import NamedTuple, Sequence

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


def sites_with_areas(session: Session, site_ids: Sequence[int]) -> list[SiteWithAreas]:
    """These sites, in id order."""
    return _read(session, _by_ids(), {"site_ids": list(site_ids)})


def operation_sites_with_areas(session: Session, operation_id: int) -> list[SiteWithAreas]:
    """Every site of the operation, in id order."""
    return _read(session, _by_operation(), {"operation_id": operation_id})


def site_from_row(row) -> SiteWithAreas:
    """The site in a row of `sites_and_areas` (its first SITE_COLUMNS columns)."""
    return SiteWithAreas(*row[:6], _areas_by_level(row[6:SITE_COLUMNS]))


def _read(session: Session, statement: sa.Select, parameters: dict) -> list[SiteWithAreas]:
    return [site_from_row(row) for row in session.execute(statement, parameters)]


def _areas_by_level(levels_and_ids) -> dict[int, int]:
    pairs = zip(levels_and_ids[::2], levels_and_ids[1::2])
    return {level: area_id for level, area_id in pairs if area_id is not None}


# The statements are built once: building the three joins took longer than running them.
@cache
def _by_ids() -> sa.Select:
    return sites_and_areas().where(_SITES.c.id.in_(sa.bindparam("site_ids", expanding=True)))


@cache
def _by_operation() -> sa.Select:
    return sites_and_areas().where(_SITES.c.operation_id == sa.bindparam("operation_id"))


SITE_COLUMNS = 12  # what sites_and_areas selects: the site's 6 columns, then level and id of 3 areas


@cache
def sites_and_areas() -> sa.Select:
    """Sites with their admin areas, in id order: the caller adds which (and may join more)."""
    query = sa.select(_SITES.c.id, _SITES.c.operation_id, _SITES.c.site_type, *_PCODES)
    joined = _SITES
    for number, pcode in enumerate(_PCODES, start=1):
        # One equality join per P-code column, each served by the (operation_id, pcode) key
        # (one join on `pcode IN (adm1, adm2, adm3)` compared every site with every area); the
        # level is the area's own, as the admin boundaries say.
        area = AdminArea.__table__.alias(f"adm{number}_area")
        joined = joined.outerjoin(area, sa.and_(area.c.operation_id == _SITES.c.operation_id,
                                                area.c.pcode == pcode))
        query = query.add_columns(area.c.level, area.c.id)
    return query.select_from(joined).order_by(_SITES.c.id)
