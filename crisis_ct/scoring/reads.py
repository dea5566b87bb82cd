"""Reading stored scores for the API, the map and the pages."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.products import DISCLAIMER
from crisis_ct.projection import areas as area_projection
from crisis_ct.projection import sites as site_projection
from crisis_ct.scoring.models import AdminAreaRiskScore, SiteRiskScore
from crisis_ct.scoring.rules import age_confidence, recency_of
from crisis_ct.scoring.service import catalogue, today
from crisis_ct.spatial import spatial_sql


def current_recency(assessment_date: date | None, as_of: date | None = None) -> str | None:
    if assessment_date is None:
        return None
    settings = catalogue().settings
    return recency_of(assessment_date, as_of or today(), settings.current_days, settings.expired_days)


def site_risk_columns(session: Session, sites: sa.Table):
    """The current phase, confidence, recency, assessment date and domain phases of each
    site, as columns the sites GeoJSON adds (computed by the database: 10,000 sites
    must not mean 10,000 Python objects)."""
    settings = catalogue().settings
    as_of = today()
    scores = SiteRiskScore.__table__.alias("current_risk")
    assessed = scores.c.assessment_date
    recency = sa.case(
        (assessed.is_(None), sa.null()),
        (assessed >= as_of - timedelta(days=settings.current_days), "current"),
        (assessed >= as_of - timedelta(days=settings.expired_days), "ageing"),
        else_="expired")
    # rules.age_confidence in SQL: aged only for the class crossed since the score was stored.
    scored_current = sa.func.coalesce(scores.c.recency, "current") == "current"
    confidence = sa.case(
        (recency == "expired", "low"),
        (sa.and_(recency == "ageing", scored_current, scores.c.confidence == "high"), "medium"),
        (sa.and_(recency == "ageing", scored_current, scores.c.confidence == "medium"), "low"),
        else_=scores.c.confidence)
    onclause = sa.and_(scores.c.site_id == sites.c.id, scores.c.is_current)
    return scores, onclause, {
        "phase": scores.c.phase, "confidence": confidence, "recency": recency,
        "assessment_date": sa.cast(assessed, sa.String),
        "domain_phases": spatial_sql(session).json_value(scores.c.domain_phases),
    }


def area_map_properties(session: Session, area_ids: list[int]) -> dict[int, dict]:
    """Each area's current summary, for the admin-area GeoJSON; what a viewer may see of it is
    crisis_ct.projection.areas's decision, taken by the caller."""
    if not area_ids:
        return {}
    rows = session.execute(
        sa.select(AdminAreaRiskScore.admin_area_id, AdminAreaRiskScore.summary)
        .where(AdminAreaRiskScore.is_current, AdminAreaRiskScore.admin_area_id.in_(area_ids))).all()
    return {area_id: dict(summary) for area_id, summary in rows}


_PARTNER_COUNTS: dict[int, tuple[tuple, area_projection.SiteCounts]] = {}


def partner_site_counts(session: Session, operation_id: int) -> area_projection.SiteCounts:
    """The site counts partners see in every area of the operation (crisis_ct.projection.areas.
    site_counts), decided over all its areas at once and kept until an area or a score changes
    (a map of 10,000 areas asks for it with every request)."""
    areas, scores = AdminArea.__table__, AdminAreaRiskScore.__table__
    # What changes when an area or a current score does, asked in one round trip.
    areas_state = (sa.select(sa.func.count(), sa.func.max(areas.c.id), sa.func.max(areas.c.updated_at))
                   .where(areas.c.operation_id == operation_id).subquery())
    scores_state = (sa.select(sa.func.count(), sa.func.max(scores.c.id))
                    .where(scores.c.operation_id == operation_id, scores.c.is_current).subquery())
    state = (str(session.get_bind().url),
             *session.execute(sa.select(areas_state, scores_state).select_from(
                 areas_state.join(scores_state, sa.true()))).one())
    cached = _PARTNER_COUNTS.get(operation_id)
    if cached and cached[0] == state:
        return cached[1]
    rows = session.execute(
        sa.select(areas.c.pcode, areas.c.parent_pcode, scores.c.summary)
        .select_from(areas.outerjoin(scores, sa.and_(scores.c.admin_area_id == areas.c.id, scores.c.is_current)))
        .where(areas.c.operation_id == operation_id)).all()
    shown = area_projection.site_counts((pcode, parent, summary) for pcode, parent, summary in rows)
    _PARTNER_COUNTS[operation_id] = (state, shown)
    return shown


def partner_counts_reader(session: Session):
    """`partner_site_counts` for crisis_ct.projection.areas.area's `counts_of`."""
    return lambda operation_id: partner_site_counts(session, operation_id)


def site_risk(session: Session, site: Site) -> dict | None:
    row = session.scalar(sa.select(SiteRiskScore).where(SiteRiskScore.site_id == site.id,
                                                        SiteRiskScore.is_current))
    if row is None:
        return None
    return explain_site(site, row)


def explain_site(site: Site, row: SiteRiskScore) -> dict:
    """The stored explanation with indicator names, under the small-site rule
    (crisis_ct.projection.sites.explanation)."""
    cat = catalogue()
    explanation = site_projection.explanation(site.population_households, row.explanation, indicator_domain)
    indicators = []
    for item in explanation.get("indicators", []):
        try:
            names = cat.get(item["indicator_id"]).label
        except KeyError:
            names = {"en": item["indicator_id"], "fr": item["indicator_id"]}
        indicators.append({**item, "name": names})
    recency = current_recency(row.assessment_date)
    return {
        "site_id": site.site_code, "name": site.name, "site_type": site.site_type,
        **explanation,
        "indicators": indicators,
        "recency": recency, "confidence": age_confidence(row.confidence, row.recency, recency),
        "score_id": row.id, "computed_at": row.computed_at.isoformat(),
        "disclaimer": DISCLAIMER,
    }


def indicator_domain(indicator_id: str) -> str | None:
    try:
        return catalogue().get(indicator_id).domain
    except KeyError:
        return None


def site_history(session: Session, site: Site) -> list[dict]:
    rows = session.execute(
        sa.select(SiteRiskScore.id, SiteRiskScore.computed_at, SiteRiskScore.phase, SiteRiskScore.confidence,
                  SiteRiskScore.assessment_date, SiteRiskScore.catalogue_version, SiteRiskScore.is_current,
                  SiteRiskScore.explanation["drivers"])
        .where(SiteRiskScore.site_id == site.id).order_by(SiteRiskScore.computed_at, SiteRiskScore.id)).all()
    return [site_projection.history_entry(site.population_households, {
        "score_id": r.id, "computed_at": r.computed_at.isoformat(), "phase": r.phase, "confidence": r.confidence,
        "assessment_date": r.assessment_date.isoformat() if r.assessment_date else None,
        "catalogue_version": r.catalogue_version, "current": r.is_current, "drivers": r[7],
    }, indicator_domain) for r in rows]


def area_risk(session: Session, area: AdminArea) -> dict | None:
    """The area's current classification with its basis, exact: callers show it through
    crisis_ct.projection.areas.area."""
    row = session.scalar(sa.select(AdminAreaRiskScore).where(AdminAreaRiskScore.admin_area_id == area.id,
                                                             AdminAreaRiskScore.is_current))
    if row is None:
        return None
    return {"pcode": area.pcode, "level": area.level, "name": {"en": area.name("en"), "fr": area.name("fr")},
            **row.summary, "score_id": row.id, "computed_at": row.computed_at.isoformat(),
            "catalogue_version": row.catalogue_version, "disclaimer": DISCLAIMER}
