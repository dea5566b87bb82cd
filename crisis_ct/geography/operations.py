"""Geography actions against the database: operations, boundary and site imports."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import sqlalchemy as sa
from shapely import wkb
from sqlalchemy.orm import Session

from crisis_ct.accounts.audit import Actor, record
from crisis_ct.accounts.models import Membership
from crisis_ct.db import refresh_statistics
from crisis_ct.geography.importers import AdminAreaRow, GeoImportError, SiteRow
from crisis_ct.geography.models import AdminArea, Operation, Site
from crisis_ct.geography.placement import Area, AreaIndex
from crisis_ct.spatial import point_ewkt, spatial_sql
from crisis_ct.timeutil import utcnow

BATCH = 1000


class OperationError(ValueError):
    pass


def get_operation(session: Session, code: str) -> Operation:
    operation = session.scalar(sa.select(Operation).where(Operation.code == code))
    if operation is None:
        raise OperationError(f"no operation with code '{code}' (create it with `crisis-ct operations create`)")
    return operation


def create_operation(session: Session, actor: Actor, code: str, name: str, country_iso3: str,
                     languages: list[str]) -> Operation:
    if session.scalar(sa.select(Operation).where(Operation.code == code)) is not None:
        raise OperationError(f"operation '{code}' exists already")
    operation = Operation(code=code, name=name, country_iso3=country_iso3.upper(), languages=languages)
    session.add(operation)
    session.flush()
    record(session, actor, "operation.created", target_type="operation", target_id=operation.id,
           operation_id=operation.id, details={"code": code})
    return operation


@dataclass(frozen=True)
class OperationSummary:
    code: str
    name: str
    country_iso3: str
    languages: list[str]
    sites: int
    people: int


def list_operations(session: Session) -> list[OperationSummary]:
    """Every operation by code, with how many sites and people (memberships) it has."""
    sites = (sa.select(sa.func.count()).where(Site.operation_id == Operation.id)
             .correlate(Operation).scalar_subquery())
    people = (sa.select(sa.func.count()).where(Membership.operation_id == Operation.id)
              .correlate(Operation).scalar_subquery())
    rows = session.execute(sa.select(Operation.code, Operation.name, Operation.country_iso3, Operation.languages,
                                     sites, people).order_by(Operation.code))
    return [OperationSummary(code, name, iso3, list(languages or ()), n_sites, n_people)
            for code, name, iso3, languages, n_sites, n_people in rows]


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated


def _existing_keys(session: Session, column, operation_id: int) -> set[str]:
    table = column.class_
    return set(session.scalars(sa.select(column).where(table.operation_id == operation_id)))


def import_admin_areas(session: Session, actor: Actor, operation: Operation, rows: list[AdminAreaRow],
                       *, source: str = "") -> ImportSummary:
    """Insert or update areas by P-code, in the caller's transaction."""
    if rows:
        _check_parents(session, operation, rows, source)
    existing = _existing_keys(session, AdminArea.pcode, operation.id)
    now = utcnow()
    values = [
        {
            "operation_id": operation.id, "pcode": row.pcode, "level": row.level, "name_en": row.name_en,
            "name_fr": row.name_fr, "parent_pcode": row.parent_pcode, "valid_on": row.valid_on,
            "geom": f"SRID=4326;{row.geometry.wkt}", "updated_at": now,
        }
        for row in rows
    ]
    spatial_sql(session).upsert(session, AdminArea.__table__, values, ["operation_id", "pcode"],
                                ["level", "name_en", "name_fr", "parent_pcode", "valid_on", "geom", "updated_at"])
    summary = ImportSummary(created=sum(r.pcode not in existing for r in rows))
    summary.updated = len(rows) - summary.created
    record(session, actor, "geo.areas_imported", target_type="operation", target_id=operation.id,
           operation_id=operation.id, details={"source": source, "created": summary.created,
                                               "updated": summary.updated, "level": rows[0].level if rows else None})
    return summary


def _check_parents(session: Session, operation: Operation, rows: list[AdminAreaRow], source: str) -> None:
    level = rows[0].level
    if level == 1:
        return
    parents = set(session.scalars(sa.select(AdminArea.pcode).where(
        AdminArea.operation_id == operation.id, AdminArea.level == level - 1)))
    for index, row in enumerate(rows, start=1):
        if row.parent_pcode not in parents:
            raise GeoImportError(source, index, "parent_pcode",
                                 f"parent P-code {row.parent_pcode} is not an imported level-{level - 1} area")


def area_index(session: Session, operation_id: int) -> AreaIndex:
    rows = session.execute(
        sa.select(AdminArea.pcode, AdminArea.level, sa.func.ST_AsBinary(AdminArea.geom))
        .where(AdminArea.operation_id == operation_id)
    ).all()
    return AreaIndex([Area(pcode, level, wkb.loads(bytes(geom))) for pcode, level, geom in rows])


def import_sites(session: Session, actor: Actor, operation: Operation, rows: Iterable[SiteRow], *,
                 source: str = "", progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Insert or update sites by site id, placed in admin areas by point-in-polygon.

    Reading the whole file first means a bad last row aborts before anything is
    written; the caller's transaction makes the import all-or-nothing anyway."""
    sites = list(rows)
    index = area_index(session, operation.id)
    placements = index.locate_many([s.lon for s in sites], [s.lat for s in sites])
    existing = _existing_keys(session, Site.site_code, operation.id)
    summary = ImportSummary()
    now = utcnow()
    values = []
    for site, placed in zip(sites, placements):
        pcodes = _resolve_pcodes(site, placed, source, summary, has_areas=bool(index.levels))
        values.append({
            "operation_id": operation.id, "site_code": site.site_code, "site_code_source": site.site_code_source,
            "name": site.name, "site_type": site.site_type,
            "population_individuals": site.population_individuals,
            "population_households": site.population_households,
            "adm1_pcode": pcodes.get(1), "adm2_pcode": pcodes.get(2), "adm3_pcode": pcodes.get(3),
            "geom": point_ewkt(site.lon, site.lat), "updated_at": now,
        })
        if site.site_code in existing:
            summary.updated += 1
        else:
            summary.created += 1
    builder = spatial_sql(session)
    update = [k for k in values[0] if k not in ("operation_id", "site_code")] if values else []
    for start in range(0, len(values), BATCH):
        builder.upsert(session, Site.__table__, values[start:start + BATCH], ["operation_id", "site_code"], update)
        if progress:
            progress(len(values[start:start + BATCH]))
    record(session, actor, "geo.sites_imported", target_type="operation", target_id=operation.id,
           operation_id=operation.id, details={"source": source, "created": summary.created,
                                               "updated": summary.updated, "warnings": len(summary.warnings)})
    if values:
        # The submission import looks sites up by code; with the statistics of an empty table
        # its planner scans them all.
        refresh_statistics(session, ["sites"])
    return summary


def _resolve_pcodes(site: SiteRow, placed: dict[int, str], source: str, summary: ImportSummary,
                    *, has_areas: bool) -> dict[int, str]:
    if has_areas and not placed:
        if site.pcodes:
            summary.warnings.append(f"{source}: row {site.row}: site {site.site_code} lies outside every "
                                    "admin area; keeping the P-codes given in the file")
            return site.pcodes
        raise GeoImportError(source, site.row, "latitude",
                             f"site {site.site_code} lies outside every imported admin area")
    for level, given in site.pcodes.items():
        if placed.get(level) and placed[level] != given:
            summary.warnings.append(f"{source}: row {site.row}: site {site.site_code} lies in {placed[level]}, "
                                    f"the file says adm{level} {given}; using the location")
    return placed or site.pcodes
