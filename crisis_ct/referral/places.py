"""The directory where it shows: providers for a site or a task (nearest service point first),
the awareness flag, coverage gaps and details to re-verify. Reads the database, decides with
crisis_ct.referral.coverage."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.referral import coverage
from crisis_ct.referral.coverage import Coverage, Need
from crisis_ct.referral.directory import ProviderView, list_providers
from crisis_ct.scoring.models import SiteRiskScore
from crisis_ct.tasks import states
from crisis_ct.tasks.models import MitigationTask, TaskSite
from crisis_ct.tasks.service import catalogues


def as_coverage(view: ProviderView) -> Coverage:
    return Coverage(view.id, frozenset(view.service_type_codes), frozenset(view.pcodes), view.lon, view.lat,
                    view.last_verified_on)


@dataclass(frozen=True)
class Listed:
    """A provider as a page lists it: the types it offers that were asked for, and how far."""
    provider: ProviderView
    km: float | None
    matching_types: tuple[str, ...]


def providers_for(session: Session, operation_id: int, chain: frozenset[str], service_types,
                  lon: float | None, lat: float | None) -> list[Listed]:
    """Providers covering the place (`chain`: its area and those above) with at least one of
    `service_types` (every type when None), nearest service point first."""
    if service_types is not None and not service_types:
        return []
    views = [view for view in list_providers(session, [operation_id], pcodes=sorted(chain))
             if coverage.covers(as_coverage(view), chain)]
    wanted = set(service_types) if service_types is not None else None
    matching = []
    for view in views:
        types = tuple(code for code in view.service_type_codes if wanted is None or code in wanted)
        if types:
            matching.append((view, types))
    ordered = coverage.nearest_first([view for view, _ in matching], lon, lat)
    types_of = {view.id: types for view, types in matching}
    return [Listed(view, km, types_of[view.id]) for view, km in ordered]


def providers_covering(session: Session, operation_ids, pcode: str | None,
                       service_type: str | None = None) -> list[ProviderView]:
    """The operations' providers (of the type); with `pcode`, those covering that admin area: a
    provider of the area itself or of an area above it."""
    if not pcode:
        return list_providers(session, operation_ids, service_type=service_type)
    chain = coverage.area_chain(pcode, _parents(session, operation_ids)) if operation_ids else frozenset()
    return list_providers(session, operation_ids, service_type=service_type, pcodes=sorted(chain))


def site_point(session: Session, site: Site) -> tuple[float | None, float | None]:
    row = session.execute(sa.select(sa.func.ST_X(Site.geom), sa.func.ST_Y(Site.geom))
                          .where(Site.id == site.id)).one()
    return row[0], row[1]


def referral_answers(session: Session, site_ids) -> dict[int, object]:
    """Site id -> the combined SVC_REFERRAL answer of its current score (absent: not scored)."""
    if not site_ids:
        return {}
    rows = session.execute(sa.select(SiteRiskScore.site_id, SiteRiskScore.explanation)
                           .where(SiteRiskScore.is_current, SiteRiskScore.site_id.in_(list(site_ids)))).all()
    answers = {}
    for site_id, explanation in rows:
        for item in (explanation or {}).get("indicators", []):
            if item.get("indicator_id") == coverage.REFERRAL_INDICATOR:
                answers[site_id] = item.get("value")
    return answers


def site_awareness_flag(session: Session, site: Site) -> bool:
    """True when the site's key informants know no referral pathway while case management covers it."""
    answer = referral_answers(session, [site.id]).get(site.id)
    if answer != "no":
        return False
    chain = coverage.place_chain(site.adm1_pcode, site.adm2_pcode, site.adm3_pcode)
    providers = [as_coverage(view) for view in list_providers(session, [site.operation_id], pcodes=sorted(chain))]
    return coverage.awareness_mismatch(answer, chain, providers)


def _parents(session: Session, operation_ids) -> dict[str, str | None]:
    return dict(session.execute(sa.select(AdminArea.pcode, AdminArea.parent_pcode)
                                .where(AdminArea.operation_id.in_(list(operation_ids)))).all())


def task_place(session: Session, task: MitigationTask) -> tuple[frozenset[str], list[Site]]:
    """The task's place as P-codes (its area or site and every area above) and its sites (the
    site of a site task, the listed sites of an area task)."""
    if task.site_id is not None:
        site = session.get(Site, task.site_id)
        return coverage.place_chain(site.adm1_pcode, site.adm2_pcode, site.adm3_pcode), [site]
    area = session.get(AdminArea, task.admin_area_id)
    sites = session.scalars(sa.select(Site).join(TaskSite, TaskSite.site_id == Site.id)
                            .where(TaskSite.task_id == task.id).order_by(Site.site_code)).all()
    return coverage.area_chain(area.pcode, _parents(session, [task.operation_id])), list(sites)


def sites_centre(session: Session, sites: list[Site]) -> tuple[float | None, float | None]:
    """The mean point of the sites that have one, in one query; (None, None) without any."""
    if not sites:
        return None, None
    lon, lat = session.execute(sa.select(sa.func.avg(sa.func.ST_X(Site.geom)), sa.func.avg(sa.func.ST_Y(Site.geom)))
                               .where(Site.id.in_([site.id for site in sites]))).one()
    return (None, None) if lon is None else (float(lon), float(lat))


def rule_service_types(rule_id: str) -> tuple[str, ...]:
    """The service types a mitigation rule's tasks need (forms/mitigation_rules.yaml)."""
    rule = catalogues()[0].rule(rule_id)
    return rule.service_types if rule is not None else ()


def task_providers(session: Session, task: MitigationTask, service_types: tuple[str, ...],
                   place: tuple[frozenset[str], list[Site]] | None = None) -> list[Listed]:
    """Providers of `service_types` covering the task's place, nearest to its sites first
    (`place`: task_place's answer when the caller has it already)."""
    if not service_types:
        return []
    chain, sites = place or task_place(session, task)
    return providers_for(session, task.operation_id, chain, service_types, *sites_centre(session, sites))


def task_referral(session: Session, task: MitigationTask, service_types: tuple[str, ...]) -> dict:
    """What the task page shows: providers of the types the task's rule needs covering its
    place (nearest to its sites first), and the listed sites flagged for awareness and access."""
    chain, sites = place = task_place(session, task)
    listed = task_providers(session, task, service_types, place)
    flagged = []
    if task.rule_id in coverage.AWARENESS_RULES and sites:
        answers = referral_answers(session, [site.id for site in sites])
        all_providers = [as_coverage(view) for view in list_providers(session, [task.operation_id])]
        flagged = [site for site in sites if coverage.awareness_mismatch(
            answers.get(site.id), coverage.place_chain(site.adm1_pcode, site.adm2_pcode, site.adm3_pcode),
            all_providers)]
    return {"providers": listed, "service_types": service_types, "awareness_sites": flagged}


# --- the dashboard ------------------------------------------------------------------------------

def open_needs(session: Session, operation_ids, rule_types: dict[str, tuple[str, ...]]) -> list[Need]:
    """One Need per open task and site it concerns (area tasks: each listed site; an area task
    without sites: its area). Gaps are listed under the site's district (adm2), else its
    deepest area."""
    rules = [rule_id for rule_id, types in rule_types.items() if types]
    if not operation_ids or not rules:
        return []
    open_task = sa.and_(MitigationTask.operation_id.in_(list(operation_ids)), MitigationTask.rule_id.in_(rules),
                        MitigationTask.status.not_in(sorted(states.FINAL_STATES)))
    needs = []
    site_rows = session.execute(
        sa.select(MitigationTask.id, MitigationTask.rule_id, Site.adm1_pcode, Site.adm2_pcode, Site.adm3_pcode)
        .join(Site, Site.id == MitigationTask.site_id).where(open_task)).all()
    listed_rows = session.execute(
        sa.select(MitigationTask.id, MitigationTask.rule_id, Site.adm1_pcode, Site.adm2_pcode, Site.adm3_pcode)
        .join(TaskSite, TaskSite.task_id == MitigationTask.id).join(Site, Site.id == TaskSite.site_id)
        .where(open_task)).all()
    for task_id, rule_id, adm1, adm2, adm3 in [*site_rows, *listed_rows]:
        needs.append(Need(task_id, rule_id, adm2 or adm3 or adm1, coverage.place_chain(adm1, adm2, adm3),
                          rule_types[rule_id]))
    parents = _parents(session, operation_ids)
    bare = session.execute(
        sa.select(MitigationTask.id, MitigationTask.rule_id, AdminArea.pcode)
        .join(AdminArea, AdminArea.id == MitigationTask.admin_area_id)
        .where(open_task, ~sa.exists().where(TaskSite.task_id == MitigationTask.id))).all()
    for task_id, rule_id, pcode in bare:
        needs.append(Need(task_id, rule_id, pcode, coverage.area_chain(pcode, parents), rule_types[rule_id]))
    return needs


@dataclass(frozen=True)
class GapRow:
    pcode: str
    area_name: str
    service_type: str
    tasks: int
    rule_ids: tuple[str, ...]


def coverage_gap_rows(session: Session, operation_ids, rule_types: dict[str, tuple[str, ...]],
                      language: str) -> list[GapRow]:
    needs = open_needs(session, operation_ids, rule_types)
    if not needs:
        return []
    providers = [as_coverage(view) for view in list_providers(session, operation_ids)]
    gaps = coverage.coverage_gaps(needs, providers)
    areas = {area.pcode: area for area in session.scalars(sa.select(AdminArea).where(
        AdminArea.operation_id.in_(list(operation_ids)), AdminArea.pcode.in_({gap.pcode for gap in gaps})))}
    return [GapRow(gap.pcode, areas[gap.pcode].name(language) if gap.pcode in areas else gap.pcode,
                   gap.service_type, len(gap.task_ids), gap.rule_ids) for gap in gaps]


def stale_providers(session: Session, operation_ids, today: date, after_days: int) -> list[ProviderView]:
    """Providers never verified or not verified for `after_days`: the coordinator's list to check."""
    return [view for view in list_providers(session, operation_ids)
            if coverage.is_stale(view.last_verified_on, today, after_days)]
