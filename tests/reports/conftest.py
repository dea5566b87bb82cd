"""A scored world with a past: the projection tests' world (tests/projection/conftest.py),
its scores moved 60 days back, then new computations that raise some phases — areas seen by
everyone, an area partners see as insufficient data, two sites — and assessments that are
about to expire."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.scoring.models import AdminAreaRiskScore, SiteRiskScore
from crisis_ct.timeutil import utcnow
from tests.projection.conftest import projection_world, signed_in_as  # noqa: F401  (fixtures)

PAST_DAYS = 60
ROSE_FOR_ALL = "XZ010101"  # 4 assessed sites: partners see its phase
ROSE_FOR_EXPERTS = "XZ010201"  # 2 assessed sites: partners see no phase, then or now
JUMPED = ("SITEPA2", "SITEPA4")  # site phase up by 2
NUDGED = "SITEPC2"  # up by 1 only
EXPIRING = ("SITEPA2", "SITEPA4")  # assessed 175 days ago: expire within 30 days


@dataclass
class History:
    area_phase_before: int
    area_phase_after: int


def _new_area_row(session, pcode: str, now, **changes) -> tuple[int, int]:
    area_id = session.scalar(sa.select(AdminArea.id).where(AdminArea.pcode == pcode))
    current = session.scalar(sa.select(AdminAreaRiskScore).where(AdminAreaRiskScore.admin_area_id == area_id,
                                                                 AdminAreaRiskScore.is_current))
    before = current.phase
    summary = {**current.summary, **changes}
    current.is_current = False
    session.flush()
    session.add(AdminAreaRiskScore(admin_area_id=area_id, operation_id=current.operation_id, computed_at=now,
                                   is_current=True, phase=summary["phase"], status=summary["status"],
                                   hotspot=current.hotspot, catalogue_version=current.catalogue_version,
                                   summary=summary))
    return before, summary["phase"]


def _new_site_row(session, site_code: str, now, rise: int) -> None:
    site_id = session.scalar(sa.select(Site.id).where(Site.site_code == site_code))
    current = session.scalar(sa.select(SiteRiskScore).where(SiteRiskScore.site_id == site_id,
                                                            SiteRiskScore.is_current))
    current.is_current = False
    session.flush()
    session.add(SiteRiskScore(site_id=site_id, operation_id=current.operation_id, computed_at=now, is_current=True,
                              phase=current.phase + rise, confidence=current.confidence,
                              assessment_date=current.assessment_date, catalogue_version=current.catalogue_version,
                              explanation=current.explanation, domain_phases=current.domain_phases))


@pytest.fixture
def history_world(database, projection_world):
    now = utcnow()
    with database.session() as session:
        for model in (AdminAreaRiskScore, SiteRiskScore):
            session.execute(sa.update(model).values(computed_at=now - timedelta(days=PAST_DAYS)))
        # Phases chosen so that each rise is there whatever the generated answers gave.
        risen = sa.select(AdminArea.id).where(AdminArea.pcode.in_([ROSE_FOR_ALL, ROSE_FOR_EXPERTS]))
        for row in session.scalars(sa.select(AdminAreaRiskScore).where(AdminAreaRiskScore.admin_area_id.in_(risen))):
            row.phase, row.status = 2, "classified"
            row.summary = {**row.summary, "phase": 2, "status": "classified"}
        for code in (*JUMPED, NUDGED):
            session.execute(sa.update(SiteRiskScore).where(SiteRiskScore.site_id.in_(
                sa.select(Site.id).where(Site.site_code == code))).values(phase=1))
        session.execute(sa.update(SiteRiskScore).where(SiteRiskScore.is_current, SiteRiskScore.site_id.in_(
            sa.select(Site.id).where(Site.site_code.in_(EXPIRING)))).values(
            assessment_date=(now - timedelta(days=175)).date()))
        session.flush()
        recent = now - timedelta(days=2)
        before, after = _new_area_row(session, ROSE_FOR_ALL, recent, phase=4, status="classified")
        # A catalogue asking fewer sites could classify an area of two: partners still see none.
        _new_area_row(session, ROSE_FOR_EXPERTS, recent, phase=4, status="classified")
        for code in JUMPED:
            _new_site_row(session, code, recent, 2)
        _new_site_row(session, NUDGED, recent, 1)
    return History(before, after)
