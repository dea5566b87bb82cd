"""Reading stored scores for the API, the map and the pages."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.products import DISCLAIMER
from crisis_ct.scoring.models import AdminAreaRiskScore, SiteRiskScore
from crisis_ct.scoring.rules import age_confidence, recency_of
from crisis_ct.scoring.service import catalogue, today
from crisis_ct.spatial import spatial_sql

# domain.md §4.3: at sites this small a "yes" on an exploitation item points at one family.
SMALL_SITE_HOUSEHOLDS = 20
SUPPRESSED_DOMAINS = frozenset({"E"})


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
    if not area_ids:
        return {}
    rows = session.execute(
        sa.select(AdminAreaRiskScore.admin_area_id, AdminAreaRiskScore.summary)
        .where(AdminAreaRiskScore.is_current, AdminAreaRiskScore.admin_area_id.in_(area_ids))).all()
    keys = ("phase", "status", "hotspot", "sites_assessed", "sites_known", "pct_sites_3plus", "pct_sites_4plus",
            "confidence")
    return {area_id: {key: summary.get(key) for key in keys} for area_id, summary in rows}


def site_risk(session: Session, site: Site) -> dict | None:
    row = session.scalar(sa.select(SiteRiskScore).where(SiteRiskScore.site_id == site.id,
                                                        SiteRiskScore.is_current))
    if row is None:
        return None
    return explain_site(site, row)


def explain_site(site: Site, row: SiteRiskScore) -> dict:
    explanation = dict(row.explanation)
    cat = catalogue()
    small = (site.population_households or 0) < SMALL_SITE_HOUSEHOLDS
    indicators = []
    for item in explanation.get("indicators", []):
        try:
            indicator = cat.get(item["indicator_id"])
            names = indicator.label
        except KeyError:
            names = {"en": item["indicator_id"], "fr": item["indicator_id"]}
        if small and item.get("domain") in SUPPRESSED_DOMAINS:
            item = {"indicator_id": item["indicator_id"], "domain": item["domain"], "suppressed": True}
        indicators.append({**item, "name": names})
    recency = current_recency(row.assessment_date)
    return {
        "site_id": site.site_code, "name": site.name, "site_type": site.site_type,
        **explanation,
        "indicators": indicators,
        **{key: [d for d in explanation.get(key, []) if not (small and _domain_of(d) in SUPPRESSED_DOMAINS)]
           for key in ("drivers", "critical_signals", "unconfirmed_signals")},
        "recency": recency, "confidence": age_confidence(row.confidence, row.recency, recency),
        "small_site_suppression": small,
        "score_id": row.id, "computed_at": row.computed_at.isoformat(),
        "disclaimer": DISCLAIMER,
    }


def _domain_of(indicator_id: str) -> str | None:
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
    return [{
        "score_id": r.id, "computed_at": r.computed_at.isoformat(), "phase": r.phase, "confidence": r.confidence,
        "assessment_date": r.assessment_date.isoformat() if r.assessment_date else None,
        "catalogue_version": r.catalogue_version, "current": r.is_current, "drivers": r[7],
    } for r in rows]


def area_risk(session: Session, area: AdminArea, *, exact_counts: bool) -> dict | None:
    row = session.scalar(sa.select(AdminAreaRiskScore).where(AdminAreaRiskScore.admin_area_id == area.id,
                                                             AdminAreaRiskScore.is_current))
    if row is None:
        return None
    summary = dict(row.summary)
    if not exact_counts:
        summary = suppress_small_counts(summary)
    return {"pcode": area.pcode, "level": area.level, "name": {"en": area.name("en"), "fr": area.name("fr")},
            **summary, "score_id": row.id, "computed_at": row.computed_at.isoformat(),
            "catalogue_version": row.catalogue_version, "disclaimer": DISCLAIMER}


def suppress_small_counts(summary: dict) -> dict:
    """For partners (viewers): counts of 1–2 sites shown as "<3", people rounded to 10,
    percentages only over at least 5 sites (domain.md §4.3)."""
    result = dict(summary)
    cells = {p: ("<3" if 0 < n < 3 else n) for p, n in summary["sites_by_phase"].items()}
    hidden = [p for p, v in cells.items() if v == "<3"]
    shown = sorted((v, p) for p, v in cells.items() if isinstance(v, int) and v > 0)
    if len(hidden) == 1 and shown:
        # Complementary suppression: with one hidden cell the total would give it away.
        cells[shown[0][1]] = "suppressed"
    result["sites_by_phase"] = cells
    result["population_by_phase"] = {p: int(round(n, -1)) for p, n in summary["population_by_phase"].items()}
    for key in ("population_known", "population_assessed"):
        result[key] = int(round(summary[key], -1))
    if summary.get("population_imputed_per_site") is not None:
        result["population_imputed_per_site"] = int(round(summary["population_imputed_per_site"], -1))
    for key in ("sites_expired", "sites_without_population"):
        if 0 < (summary.get(key) or 0) < 3:
            result[key] = "<3"
    if (summary.get("sites_assessed") or 0) < 5:
        result["pct_sites_3plus"] = result["pct_sites_4plus"] = None
    return result
