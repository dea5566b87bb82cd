"""Admin areas scored from the current scores of their sites (crisis_ct.scoring.area holds
the pure rule), at once or later.

At once: `rescore_areas`, in the caller's transaction (a full re-score, `score --aged`,
`rescore_sites` by default). Later: the drain writes site scores in short batches and
marks the areas above them changed (crisis_ct.scoring.area_queue); `read_due_areas` then
scores every changed area in a transaction that only reads (on SQLite it takes no write
lock: reading the sites of an admin-1 area is the long part), and `store_due_areas`
writes the results in short transactions, each storing only results newer than the
stored ones."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.db import transaction_lock
from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.geography.site_areas import SiteWithAreas
from crisis_ct.scoring import area_queue
from crisis_ct.scoring.area import AreaScore, SiteForArea, score_area
from crisis_ct.scoring.current import SCORING_LOCK, catalogue, mark_not_current
from crisis_ct.scoring.models import AdminAreaRiskScore, SiteRiskScore
from crisis_ct.scoring.rules import recency_of
from crisis_ct.timeutil import utcnow

# Past this many P-codes the sites of the whole operation are read: one plain query instead
# of thousands of bound parameters.
_MAX_LISTED_PCODES = 300


@dataclass(frozen=True)
class _SiteLine:
    pcodes: tuple[str | None, ...]
    site: SiteForArea
    assessed_on: date | None = None


def _site_lines(session: Session, operation_id: int, pcodes: set[str] | None, as_of: date) -> list[_SiteLine]:
    settings = catalogue().settings
    query = (sa.select(Site.id, Site.population_individuals, Site.adm1_pcode, Site.adm2_pcode, Site.adm3_pcode,
                       SiteRiskScore.phase, SiteRiskScore.confidence, SiteRiskScore.assessment_date)
             .outerjoin(SiteRiskScore, sa.and_(SiteRiskScore.site_id == Site.id, SiteRiskScore.is_current))
             .where(Site.operation_id == operation_id))
    if pcodes is not None and len(pcodes) <= _MAX_LISTED_PCODES:
        wanted = sorted(pcodes)
        query = query.where(sa.or_(Site.adm1_pcode.in_(wanted), Site.adm2_pcode.in_(wanted),
                                   Site.adm3_pcode.in_(wanted)))
    lines = []
    recency_by_date: dict[date, str] = {}  # thousands of sites share a few dozen dates
    for site_id, population, p1, p2, p3, phase, confidence, assessed_on in session.execute(query):
        recency = None
        if assessed_on:
            recency = recency_by_date.get(assessed_on)
            if recency is None:
                recency = recency_by_date[assessed_on] = recency_of(
                    assessed_on, as_of, settings.current_days, settings.expired_days)
        lines.append(_SiteLine((p1, p2, p3), SiteForArea(site_id, population or 0, phase, recency, confidence),
                               assessed_on))
    return lines


@dataclass(frozen=True)
class ScoredArea:
    id: int
    operation_id: int
    level: int
    score: AreaScore
    evidence_date: date | None  # the newest assessment of its assessed sites
    version: int = 0  # the area_queue version it was scored for (the deferred path)


def score_areas(session: Session, operation_id: int, areas: Sequence, as_of: date) -> list[ScoredArea]:
    """Score these areas of one operation (rows with id, pcode, level and, optionally,
    version) from the current scores of their sites; writes nothing."""
    if not areas:
        return []
    lines = _site_lines(session, operation_id, {area.pcode for area in areas}, as_of)
    members: dict[str, list[SiteForArea]] = defaultdict(list)
    newest: dict[str, date] = {}
    for line in lines:
        for pcode in line.pcodes:
            if pcode:
                members[pcode].append(line.site)
                if line.site.assessed and line.assessed_on and line.assessed_on > newest.get(pcode, date.min):
                    newest[pcode] = line.assessed_on
    settings = catalogue().settings
    return [ScoredArea(area.id, operation_id, area.level, score_area(settings, members.get(area.pcode, [])),
                       newest.get(area.pcode), getattr(area, "version", 0))
            for area in areas]


def rescore_areas(session: Session, operation_id: int, pcodes: set[str] | None = None, *,
                  now: datetime | None = None) -> int:
    """Score the named admin areas (all of the operation's when None), in this transaction."""
    now = now or utcnow()
    if pcodes is not None and not pcodes:
        return 0
    # Before the sites are read: their scores cannot change until this transaction ends, so
    # every change counted so far is in the result (mark_scored).
    transaction_lock(session, SCORING_LOCK)
    # Only the columns the roll-up uses: whole AdminArea rows would load every polygon.
    query = (sa.select(AdminArea.id, AdminArea.pcode, AdminArea.level)
             .where(AdminArea.operation_id == operation_id).order_by(AdminArea.id))
    if pcodes is not None:
        query = query.where(AdminArea.pcode.in_(sorted(pcodes)))
    scored = score_areas(session, operation_id, session.execute(query).all(), now.date())
    _store_area_scores(session, scored, now)
    area_queue.mark_scored(session, [area.id for area in scored])
    return len(scored)


def mark_areas_changed(session: Session, sites: Iterable[SiteWithAreas]) -> None:
    """The deferred path: the admin areas above these sites are due for re-scoring."""
    area_queue.mark_changed(session, {area_id for site in sites for area_id in site.areas.values()})


def read_due_areas(session: Session, now: datetime) -> list[ScoredArea]:
    """Every area with site changes not in its score, scored for its version; read in a
    transaction of the caller's that may hold no lock (see area_queue: the versions are
    read before the sites)."""
    due = area_queue.due(session)
    by_operation: dict[int, list[area_queue.DueArea]] = defaultdict(list)
    for area in due:
        by_operation[area.operation_id].append(area)
    return [scored for operation_id, areas in by_operation.items()
            for scored in score_areas(session, operation_id, areas, now.date())]


def store_due_areas(session: Session, scored: Sequence[ScoredArea], now: datetime) -> int:
    """Store the results read by read_due_areas that are still the newest (in the caller's
    transaction, which this makes a scoring writer); returns how many were stored."""
    transaction_lock(session, SCORING_LOCK)
    newer = area_queue.claim(session, {area.id: area.version for area in scored})
    _store_area_scores(session, [area for area in scored if area.id in newer], now)
    return len(newer)


def _store_area_scores(session: Session, scored: Sequence[ScoredArea], now: datetime) -> None:
    if not scored:
        return
    mark_not_current(session, AdminAreaRiskScore.__table__.c.admin_area_id, [area.id for area in scored])
    version = catalogue().version
    rows = [{
        "admin_area_id": area.id, "operation_id": area.operation_id, "computed_at": now, "is_current": True,
        "phase": area.score.phase, "status": area.score.status, "hotspot": area.score.hotspot,
        "catalogue_version": version, "summary": area.score.to_dict(),
    } for area in scored]
    ids = list(session.scalars(
        sa.insert(AdminAreaRiskScore).returning(AdminAreaRiskScore.id, sort_by_parameter_order=True), rows))
    from crisis_ct.tasks import service as tasks

    tasks.generate(session, [
        tasks.area_scoring(admin_area_id=area.id, operation_id=area.operation_id, score=area.score, score_id=score_id,
                           assessment_date=area.evidence_date, admin_level=area.level)
        for area, score_id in zip(scored, ids)], now=now)
