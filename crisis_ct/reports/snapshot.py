"""The situation snapshot (issue 16 item 2) for one reader: an operation, or one admin area
and what lies below it, on one A4 page. Everything a reader sees of it goes through
crisis_ct.projection: area phases as `areas.area` shows them, counts of sites and tasks as
`reports.count`/`cells`, indicators and site-level warnings for experts and above only."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

import sqlalchemy as sa
from markupsafe import Markup
from shapely.geometry import shape
from sqlalchemy.orm import Session

from crisis_ct.accounts.principal import Principal
from crisis_ct.geography.models import AdminArea, MAX_ADMIN_LEVEL, Operation
from crisis_ct.products import DISCLAIMER
from crisis_ct.projection import areas as area_projection, counts
from crisis_ct.projection import reports as report_projection
from crisis_ct.projection import sites as site_projection
from crisis_ct.projection.audience import sees_site_level
from crisis_ct.reports import map_svg, reads, task_figures
from crisis_ct.reports.history import as_of, phase_change
from crisis_ct.reports.scope import AreaRef, Scope
from crisis_ct.reports.warnings import early_warning_for
from crisis_ct.scoring.catalogue import DOMAINS
from crisis_ct.scoring.reads import area_map_properties, indicator_domain, partner_counts_reader
from crisis_ct.scoring.rules import recency_of
from crisis_ct.scoring.service import catalogue
from crisis_ct.spatial import spatial_sql
from crisis_ct.tasks.service import catalogues

CHANGE_DAYS = (30, 90)
# Levels in the table of phases: the scope's own and the one below (the whole operation:
# admin 1 and 2). Deeper areas have their own snapshot; an A4 page cannot list them all.
TABLE_LEVELS = 2
RECENCY_CELLS = ("current", "ageing", "expired", "not_assessed")
TOP_INDICATORS = 8
MAP_TOLERANCE_DEGREES = 0.002


@dataclass(frozen=True)
class AreaLine:
    pcode: str
    name: str
    level: int
    status: str | None
    phase: int | None
    hotspot: bool | None
    confidence: str | None
    sites_assessed: int | str | None
    sites_known: int | str | None
    phase_then: dict  # days ago -> the phase shown then (None: none shown, or no score yet)
    change: dict  # days ago -> phase now − phase then, or None


@dataclass
class Snapshot:
    operation_code: str
    operation_name: str
    area: AreaRef | None
    language: str
    generated_at: datetime
    site_level: bool
    headline: dict | None
    map_image: Markup
    map_level: int | None
    levels: list[tuple[int, list[AreaLine]]]
    domains: list[dict]
    indicators: list[dict] | None
    coverage: dict
    tasks: dict
    warnings: dict
    disclaimer: str
    change_days: Sequence[int] = CHANGE_DAYS

    @property
    def title_name(self) -> str:
        return self.area.name(self.language) if self.area else self.operation_name


def _area_lines(session: Session, principal: Principal, scope: Scope, now: datetime,
                language: str) -> dict[int, AreaLine]:
    operation_id = scope.operation_id
    summaries = area_map_properties(session, scope.area_ids)
    histories = reads.area_histories(session, scope, [now - timedelta(days=days) for days in CHANGE_DAYS])
    lines = {}
    counts_of = partner_counts_reader(session)
    for area in scope.areas:
        shown = area_projection.area(principal, operation_id,
                                     {"level": area.level, "pcode": area.pcode, **summaries.get(area.id, {})},
                                     counts_of)
        phase_then, change = {}, {}
        for days in CHANGE_DAYS:
            then = as_of(histories.get(area.id, []), now - timedelta(days=days))
            phase_then[days] = (None if then is None else
                                report_projection.area_phase(principal, operation_id, area.level, then.detail))
            change[days] = phase_change(phase_then[days], shown.get("phase"))
        lines[area.id] = AreaLine(area.pcode, area.name(language), area.level, shown.get("status"),
                                  shown.get("phase"), shown.get("hotspot"), shown.get("confidence"),
                                  shown.get("sites_assessed"), shown.get("sites_known"), phase_then, change)
    return lines


def _map_areas(scope: Scope, all_areas: Sequence[AreaRef]) -> tuple[int | None, list[AreaRef]]:
    """Whole operation: admin 2 (admin 1 when there is no admin 2); an area: the level below
    it, and an area of the lowest level among its siblings."""
    if scope.area is None:
        for level in (2, 1):
            chosen = [a for a in scope.areas if a.level == level]
            if chosen:
                return level, chosen
        return None, []
    if scope.area.level < MAX_ADMIN_LEVEL:
        below = [a for a in scope.areas if a.level == scope.area.level + 1]
        if below:
            return scope.area.level + 1, below
    siblings = [a for a in all_areas if a.level == scope.area.level and a.parent_pcode == scope.area.parent_pcode]
    return scope.area.level, siblings or [scope.area]


def _map_image(session: Session, scope: Scope, lines: dict[int, AreaLine], drawn: Sequence[AreaRef],
               title: str) -> Markup:
    if not drawn:
        return Markup("")
    geojson = spatial_sql(session).simplified_geojson(AdminArea.geom, MAP_TOLERANCE_DEGREES)
    rows = dict(session.execute(sa.select(AdminArea.id, geojson).where(AdminArea.id.in_([a.id for a in drawn]))).all())
    items = []
    for area in drawn:
        if not rows.get(area.id):
            continue
        line = lines.get(area.id)
        phase = line.phase if line and line.status == "classified" else None
        label = f"{line.name} ({area.pcode})" if line else area.pcode
        items.append(map_svg.MapArea(area.pcode, label, phase, shape(json.loads(rows[area.id])),
                                     highlighted=scope.area is not None and area.id == scope.area.id))
    return map_svg.render(items, title=title)


def _drivers(principal: Principal, operation_id: int, sites: Sequence[reads.CurrentSite], today,
             language: str) -> tuple[list[dict], list[dict] | None]:
    settings = catalogue().settings
    in_use = [s for s in sites if s.site.phase is not None and s.site.assessment_date is not None
              and recency_of(s.site.assessment_date, today, settings.current_days, settings.expired_days) != "expired"]
    domains = []
    for domain in DOMAINS:
        phases = [s.domain_phases.get(domain) for s in in_use]
        domains.append({"domain": domain,
                        "at_3_plus": report_projection.count(principal, operation_id,
                                                             sum(1 for p in phases if p and p >= 3)),
                        "at_4_plus": report_projection.count(principal, operation_id,
                                                             sum(1 for p in phases if p and p >= 4))})
    if not report_projection.sees_indicators(principal, operation_id):
        return domains, None
    driving: Counter = Counter()
    for s in in_use:
        driving.update(site_projection.shown_indicator_ids(s.households, s.drivers, indicator_domain))
    cat = catalogue()
    indicators = []
    for indicator_id, number in driving.most_common(TOP_INDICATORS):
        try:
            name = cat.get(indicator_id).label.get(language) or indicator_id
        except KeyError:
            name = indicator_id
        indicators.append({"indicator_id": indicator_id, "name": name, "domain": indicator_domain(indicator_id),
                           "sites": number})
    return domains, indicators


def _coverage(principal: Principal, operation_id: int, sites: Sequence[reads.CurrentSite], today) -> dict:
    settings = catalogue().settings
    cells = Counter({key: 0 for key in RECENCY_CELLS})
    ages = []
    population_known = population_assessed = 0
    for s in sites:
        population_known += s.site.population or 0
        if s.site.phase is None or s.site.assessment_date is None:
            cells["not_assessed"] += 1
            continue
        recency = recency_of(s.site.assessment_date, today, settings.current_days, settings.expired_days)
        cells[recency] += 1
        if recency != "expired":
            ages.append((today - s.site.assessment_date).days)
            population_assessed += s.site.population or 0
    known = len(sites)
    assessed = cells["current"] + cells["ageing"]
    shown_cells = report_projection.cells(principal, operation_id, dict(cells), known) if known else None
    share = round(100 * population_assessed / population_known, 1) if population_known else None
    if not sees_site_level(principal, operation_id) and assessed < counts.MIN_SITES_FOR_PERCENT:
        share = None  # a percentage over fewer than 5 sites is one or two sites' figure
    return {"sites_known": report_projection.count(principal, operation_id, known),
            "sites_assessed": report_projection.count(principal, operation_id, assessed),
            "by_recency": shown_cells,
            "population_coverage_pct": share,
            "age": report_projection.data_age(principal, operation_id, ages)}


def _tasks(session: Session, principal: Principal, scope: Scope, now: datetime, language: str) -> dict:
    mitigation, _ = catalogues()
    sector_names = mitigation.sectors
    operation_id = scope.operation_id
    figures = task_figures.task_figures(session, scope, now, partner_view=not sees_site_level(principal, operation_id))

    def table(values: dict, keys: Sequence[str]) -> list[dict]:
        return [{"key": key, "label": sector_names[key].get(language) if key in sector_names else key,
                 **{column: report_projection.count(principal, operation_id, values.get((key, column), 0))
                    for column in task_figures.COLUMNS}} for key in keys]

    used = {key for key, _ in figures.by_priority}
    priorities = [code for code in mitigation.priorities if code in used] + sorted(used - set(mitigation.priorities))
    return {"columns": task_figures.COLUMNS, "by_sector": table(figures.by_sector, figures.sectors()),
            "by_priority": table(figures.by_priority, priorities)}


def build_snapshot(session: Session, principal: Principal, scope: Scope, all_areas: Sequence[AreaRef],
                   now: datetime, language: str, map_title: str) -> Snapshot:
    operation = session.get(Operation, scope.operation_id)
    operation_id = scope.operation_id
    lines = _area_lines(session, principal, scope, now, language)
    levels = []
    for level in sorted({area.level for area in scope.areas})[:TABLE_LEVELS]:
        levels.append((level, [lines[a.id] for a in scope.areas if a.level == level]))
    map_level, drawn = _map_areas(scope, all_areas)
    if scope.area is not None and any(a.id not in lines for a in drawn):
        lines = {**_area_lines(session, principal, Scope(operation_id, None, tuple(drawn)), now, language), **lines}
    headline = None
    if scope.area is not None:
        headline = area_projection.area(principal, operation_id, {
            "level": scope.area.level, "pcode": scope.area.pcode,
            **area_map_properties(session, [scope.area.id]).get(scope.area.id, {})}, partner_counts_reader(session))
    sites = reads.current_sites(session, scope)
    domains, indicators = _drivers(principal, operation_id, sites, now.date(), language)
    return Snapshot(
        operation_code=operation.code, operation_name=operation.name, area=scope.area, language=language,
        generated_at=now, site_level=sees_site_level(principal, operation_id), headline=headline,
        map_image=_map_image(session, scope, lines, drawn, map_title), map_level=map_level, levels=levels,
        domains=domains, indicators=indicators, coverage=_coverage(principal, operation_id, sites, now.date()),
        tasks=_tasks(session, principal, scope, now, language),
        warnings=early_warning_for(session, principal, scope, now),
        disclaimer=DISCLAIMER[language])
