"""The rows of each dataset as the caller may see them. Every row goes through the caller's
projection (crisis_ct.projection) before it is yielded; the filters are the list APIs'.

Rows are mappings keyed by crisis_ct.exports.columns; a row meant for GeoJSON also carries
`GEOMETRY` (the geometry as GeoJSON text written by the database). Reads stream in batches
(`yield_per`), so an export of 100,000 rows never holds them all."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterator, Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.principal import Principal
from crisis_ct.geography.models import AdminArea, Operation, Site
from crisis_ct.kobo.models import Submission
from crisis_ct.projection import areas as area_projection
from crisis_ct.projection import public as public_projection
from crisis_ct.projection import sites as site_projection
from crisis_ct.projection import submissions as submission_projection
from crisis_ct.projection.audience import split_by_audience
from crisis_ct.scoring.models import AdminAreaRiskScore
from crisis_ct.scoring.reads import partner_counts_reader, site_risk_columns
from crisis_ct.scoring.service import catalogue as indicator_catalogue
from crisis_ct.spatial import BBox, spatial_sql
from crisis_ct.tasks import queries as task_queries
from crisis_ct.tasks.service import catalogues as task_catalogues

GEOMETRY = "__geometry__"
BATCH = 1000


class ExportRefused(Exception):
    """The caller may not have this export at all (403): the projection shows them none of it."""


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


@dataclass
class AreaIndex:
    """P-code -> (level, parent, names) for the operations' admin areas: the admin 1/2/3
    P-codes and names of any area, without geometries."""
    rows: dict[str, tuple[int, str | None, str | None, str | None]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, operation_ids: Sequence[int]) -> "AreaIndex":
        table = AdminArea.__table__
        rows = session.execute(sa.select(table.c.pcode, table.c.level, table.c.parent_pcode, table.c.name_en,
                                         table.c.name_fr).where(table.c.operation_id.in_(list(operation_ids))))
        return cls({pcode: (level, parent, en, fr) for pcode, level, parent, en, fr in rows})

    def name(self, pcode: str | None, lang: str = "en") -> str | None:
        entry = self.rows.get(pcode or "")
        if entry is None:
            return None
        en, fr = entry[2], entry[3]
        return (fr or en) if lang == "fr" else (en or fr)

    def chain(self, pcode: str | None) -> dict[int, str]:
        """Level -> P-code of the area and each of its parents."""
        levels: dict[int, str] = {}
        while pcode and pcode in self.rows and len(levels) < 10:
            level, parent = self.rows[pcode][0], self.rows[pcode][1]
            levels[level] = pcode
            pcode = parent
        return levels

    def admin_columns(self, pcode: str | None, lang: str = "en", *, names: bool = True) -> dict:
        columns: dict = {}
        for level, code in self.chain(pcode).items():
            columns[f"adm{level}_pcode"] = code
            if names:
                columns[f"adm{level}_name"] = self.name(code, lang)
        return columns


# --- sites -------------------------------------------------------------------------------------

def site_rows(session: Session, principal: Principal, operation_ids: Sequence[int], *, bbox: BBox | None = None,
              pcode: str | None = None, with_geometry: bool = False) -> Iterator[dict]:
    """The sites with their current risk, for the operations where the caller sees site level;
    refused when that is none of them (partners export admin areas)."""
    site_level, _ = split_by_audience(principal, operation_ids)
    if not site_level:
        raise ExportRefused("Site exports are for the operation's experts and coordinators; "
                            "partners export admin areas (exports/admin-areas).")
    table = Site.__table__
    scores, onclause, risk = site_risk_columns(session, table)
    query = (sa.select(table.c.operation_id, Operation.code.label("operation"), table.c.site_code.label("site_id"),
                       table.c.name, table.c.site_type, table.c.adm1_pcode, table.c.adm2_pcode, table.c.adm3_pcode,
                       table.c.population_individuals.label("population"),
                       table.c.population_households.label("households"),
                       sa.func.ST_X(table.c.geom).label("lon"), sa.func.ST_Y(table.c.geom).label("lat"),
                       *(column.label(name) for name, column in risk.items()))
             .select_from(table.outerjoin(scores, onclause).join(Operation, Operation.id == table.c.operation_id))
             .where(table.c.operation_id.in_(site_level)).order_by(table.c.operation_id, table.c.site_code))
    if bbox:
        query = query.where(spatial_sql(session).bbox_filter(table, bbox))
    if pcode:
        query = query.where(sa.or_(table.c.adm1_pcode == pcode, table.c.adm2_pcode == pcode,
                                   table.c.adm3_pcode == pcode))
    for row in session.execute(query.execution_options(yield_per=BATCH)).mappings():
        properties = dict(row)
        domain_phases = properties.pop("domain_phases", None)
        if isinstance(domain_phases, str):
            domain_phases = orjson.loads(domain_phases)
        for domain, phase in (domain_phases or {}).items():
            properties[f"domain_{domain}"] = phase
        operation_id = properties.pop("operation_id")
        for key in ("lon", "lat"):
            if properties[key] is not None:
                properties[key] = round(properties[key], 6)
        shown = site_projection.site(principal, operation_id, properties)
        if with_geometry and properties["lon"] is not None:
            shown[GEOMETRY] = {"type": "Point", "coordinates": [properties["lon"], properties["lat"]]}
        yield shown


# --- admin areas -------------------------------------------------------------------------------

def area_rows(session: Session, principal: Principal | None, operation_ids: Sequence[int], *, level: int | None = None,
              bbox: BBox | None = None, lang: str = "en", public: bool = False,
              with_geometry: bool = False) -> Iterator[dict]:
    """Each admin area with its current risk as the caller's projection shows it; `public`:
    as crisis_ct.projection.public shows it to anyone (admin 1 and 2 only)."""
    table = AdminArea.__table__
    index = AreaIndex.load(session, operation_ids)
    columns = [table.c.operation_id, Operation.code.label("operation"), table.c.pcode, table.c.level,
               table.c.name_en, table.c.name_fr, table.c.parent_pcode, table.c.valid_on,
               AdminAreaRiskScore.summary, AdminAreaRiskScore.computed_at]
    if with_geometry:
        columns.append(spatial_sql(session).as_geojson(table.c.geom).label("geojson"))
    query = (sa.select(*columns).select_from(table)
             .join(Operation, Operation.id == table.c.operation_id)
             .outerjoin(AdminAreaRiskScore, sa.and_(AdminAreaRiskScore.admin_area_id == table.c.id,
                                                    AdminAreaRiskScore.is_current))
             .where(table.c.operation_id.in_(list(operation_ids))).order_by(table.c.level, table.c.pcode))
    if level is not None:
        query = query.where(table.c.level == level)
    if public:
        query = query.where(table.c.level.in_(public_projection.PUBLIC_LEVELS))
    if bbox:
        query = query.where(spatial_sql(session).bbox_filter(table, bbox))
    counts_of = partner_counts_reader(session)
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        summary = {"pcode": row.pcode, "level": row.level, "name_en": row.name_en, "name_fr": row.name_fr,
                   "parent_pcode": row.parent_pcode, "valid_on": _iso(row.valid_on), **(row.summary or {})}
        if row.summary is not None:
            summary["computed_at"] = _iso(row.computed_at)
        shown = (public_projection.area(summary, counts_of(row.operation_id).get(row.pcode, {})) if public
                 else area_projection.area(principal, row.operation_id, summary, counts_of))
        if shown is None:
            continue
        flat = {**shown, "operation": row.operation, **index.admin_columns(row.pcode, lang)}
        for phase, count in (shown.get("sites_by_phase") or {}).items():
            flat[f"sites_phase_{phase}"] = count
        if with_geometry:
            flat[GEOMETRY] = orjson.Fragment(row.geojson) if row.geojson else None
        yield flat


# --- tasks -------------------------------------------------------------------------------------

def task_rows(session: Session, principal: Principal, operation_ids: Sequence[int],
              filters: task_queries.TaskFilters, *, now: datetime, lang: str = "en",
              with_geometry: bool = False) -> Iterator[dict]:
    """The tasks the task list shows this caller, with its filters, page by page; each row as
    crisis_ct.projection.tasks shows it (partners: area tasks, no holder, no evidence). In
    GeoJSON a site task is its site's point; an area task has no geometry."""
    rules, _ = task_catalogues()
    site_level, admin_level_only = split_by_audience(principal, operation_ids)
    index = AreaIndex.load(session, operation_ids)
    points = _site_points(session, site_level) if with_geometry else {}
    offset = 0
    while True:
        _, items = task_queries.list_tasks(session, operation_ids, filters, priorities=list(rules.priorities),
                                           now=now, limit=BATCH, offset=offset, admin_level_only=admin_level_only)
        for item in items:
            shown = task_queries.as_seen_by(principal, item)
            rule = rules.rule(shown["rule_id"])
            claim = shown.get("claim") or {}
            row = {**shown, "title": (shown.get("title") or {}).get(lang), "toc_area": rule.toc_area if rule else None,
                   "holder": (claim.get("holder") or {}).get("display_name"), "claimed_at": claim.get("claimed_at"),
                   **index.admin_columns(shown.get("pcode"), names=False)}
            point = points.get((shown.get("operation"), shown.get("site_id")))
            if point is not None:
                row[GEOMETRY] = {"type": "Point", "coordinates": point}
            yield row
        if len(items) < BATCH:
            return
        offset += BATCH
        session.expunge_all()  # the page's ORM objects are written out: let them go


def _site_points(session: Session, operation_ids: Sequence[int]) -> dict[tuple[str, str], list[float]]:
    """(operation code, site code) -> [lon, lat] of the operations' sites (seen at site level)."""
    if not operation_ids:
        return {}
    table = Site.__table__
    rows = session.execute(sa.select(Operation.code, table.c.site_code, sa.func.ST_X(table.c.geom),
                                     sa.func.ST_Y(table.c.geom))
                           .join(Operation, Operation.id == table.c.operation_id)
                           .where(table.c.operation_id.in_(list(operation_ids)), table.c.geom.is_not(None)))
    return {(code, site): [round(lon, 6), round(lat, 6)] for code, site, lon, lat in rows}


# --- submissions -------------------------------------------------------------------------------

def answer_indicators():
    """The catalogue indicators whose answers a submissions export carries, in catalogue order."""
    return indicator_catalogue().indicators


def submission_rows(session: Session, principal: Principal, operation_ids: Sequence[int], *,
                    site_id: str | None = None, since: date | None = None,
                    until: date | None = None) -> Iterator[dict]:
    """Stored submissions with their key-informant answers, for coordinators and admins only
    (crisis_ct.projection.submissions); the answers under the small-site rule."""
    allowed = [op for op in operation_ids if submission_projection.sees_submissions(principal, op)]
    if not allowed:
        raise ExportRefused("Submissions and key-informant answers are for the operation's coordinators and admins.")
    questions = {indicator.name: indicator.id for indicator in answer_indicators()}
    domains = {indicator.id: indicator.domain for indicator in answer_indicators()}  # read once, not per answer
    query = (sa.select(Submission.id, Submission.operation_id, Operation.code.label("operation"),
                       Site.site_code.label("site_id"), Site.adm1_pcode, Site.adm2_pcode,
                       Site.population_households.label("households"), Submission.assessment_date,
                       Submission.submitted_at, Submission.ki_role, Submission.matched_by, Submission.received_via,
                       Submission.version_count, Submission.answers)
             .join(Site, Site.id == Submission.site_id).join(Operation, Operation.id == Submission.operation_id)
             .where(Submission.operation_id.in_(allowed))
             .order_by(Submission.assessment_date.desc(), Submission.id.desc()))
    if site_id:
        query = query.where(Site.site_code == site_id)
    if since:
        query = query.where(Submission.assessment_date >= since)
    if until:
        query = query.where(Submission.assessment_date <= until)
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        item = {key: _iso(value) for key, value in row._mapping.items() if key not in ("answers", "households")}
        shown = submission_projection.submission(principal, row.operation_id, item)
        if shown is None:
            continue
        answers = submission_projection.exported_answers(
            principal, row.operation_id, {questions[name]: value for name, value in (row.answers or {}).items()
                                          if name in questions},
            households=row.households, domain_of=domains.get)
        shown.update({f"answer_{indicator_id}": value for indicator_id, value in (answers or {}).items()})
        yield shown

