"""What the reports read from the stored scores: a reduced score history per place (exactly
the computations crisis_ct.reports.history needs to answer for the given instants) and the
sites' current scores."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import Site
from crisis_ct.reports.early_warning import AssessedSite
from crisis_ct.reports.history import ScorePoint
from crisis_ct.reports.scope import Scope
from crisis_ct.scoring.models import AdminAreaRiskScore, SiteRiskScore


def _ids_around(model, place, where, instant: datetime, *, before: bool):
    """Per place, the id of the last computation at or before `instant` (before=True) or the
    first one after it."""
    order = (model.computed_at.desc(), model.id.desc()) if before else (model.computed_at, model.id)
    rank = sa.func.row_number().over(partition_by=place, order_by=order).label("rank")
    when = model.computed_at <= instant if before else model.computed_at > instant
    ranked = sa.select(model.id, rank).where(where, when).subquery()
    return sa.select(ranked.c.id).where(ranked.c.rank == 1)


def _history_condition(model, place, where, instants: Sequence[datetime]):
    """The current computation, and around each instant the last one before and first after:
    history.as_of, baseline and latest answer on these as on the whole history."""
    parts = [model.is_current]
    for instant in instants:
        parts.append(model.id.in_(_ids_around(model, place, where, instant, before=True)))
        parts.append(model.id.in_(_ids_around(model, place, where, instant, before=False)))
    return sa.and_(where, sa.or_(*parts))


def area_histories(session: Session, scope: Scope, instants: Sequence[datetime]) -> dict[int, list[ScorePoint]]:
    """Admin area id -> its computations (phase; status and sites assessed, for projection)."""
    model = AdminAreaRiskScore
    where = sa.and_(model.operation_id == scope.operation_id, model.admin_area_id.in_(scope.area_ids))
    rows = session.execute(
        sa.select(model.admin_area_id, model.computed_at, model.phase, model.status, model.hotspot,
                  model.summary["sites_assessed"].as_integer())
        .where(_history_condition(model, model.admin_area_id, where, instants))
        .order_by(model.admin_area_id, model.computed_at, model.id))
    histories: dict[int, list[ScorePoint]] = defaultdict(list)
    for area_id, computed_at, phase, status, hotspot, assessed in rows:
        histories[area_id].append(ScorePoint(computed_at, phase, {
            "phase": phase, "status": status, "hotspot": hotspot, "sites_assessed": assessed}))
    return dict(histories)


def site_histories(session: Session, scope: Scope, instants: Sequence[datetime]) -> dict[int, list[ScorePoint]]:
    """Site id -> its computations (phase and assessment date)."""
    model = SiteRiskScore
    in_scope = sa.select(Site.id).where(scope.site_condition())
    where = sa.and_(model.operation_id == scope.operation_id, model.site_id.in_(in_scope))
    rows = session.execute(
        sa.select(model.site_id, model.computed_at, model.phase, model.assessment_date)
        .where(_history_condition(model, model.site_id, where, instants))
        .order_by(model.site_id, model.computed_at, model.id))
    histories: dict[int, list[ScorePoint]] = defaultdict(list)
    for site_id, computed_at, phase, assessed in rows:
        histories[site_id].append(ScorePoint(computed_at, phase, {"assessment_date": assessed}))
    return dict(histories)


@dataclass(frozen=True)
class CurrentSite:
    """A site of the scope with its current score (or none)."""
    site: AssessedSite
    site_code: str
    name: str
    households: int | None
    domain_phases: dict
    drivers: list


def current_sites(session: Session, scope: Scope) -> list[CurrentSite]:
    rows = session.execute(
        sa.select(Site.id, Site.site_code, Site.name, Site.population_individuals, Site.population_households,
                  Site.adm1_pcode, Site.adm2_pcode, Site.adm3_pcode, SiteRiskScore.phase, SiteRiskScore.confidence,
                  SiteRiskScore.assessment_date, SiteRiskScore.domain_phases, SiteRiskScore.explanation["drivers"])
        .outerjoin(SiteRiskScore, sa.and_(SiteRiskScore.site_id == Site.id, SiteRiskScore.is_current))
        .where(scope.site_condition()).order_by(Site.id))
    return [CurrentSite(
        site=AssessedSite(site_id, tuple(p for p in (p1, p2, p3) if p), population, phase, confidence, assessed),
        site_code=code, name=name, households=households, domain_phases=dict(domains or {}),
        drivers=list(drivers or []))
        for (site_id, code, name, population, households, p1, p2, p3, phase, confidence, assessed, domains,
             drivers) in rows]
