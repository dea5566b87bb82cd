"""Read queries for sites and admin areas, shaped for GeoJSON output."""
from __future__ import annotations

from typing import Callable, Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.products import DISCLAIMER
from crisis_ct.spatial import BBox, spatial_sql

# Extra per-place properties (e.g. the current risk phase) registered by other
# modules, so geography need not know about scoring.
_site_column_providers: list = []
_area_enrichers: list = []


def register_site_columns(provider) -> None:
    """`provider(session, sites_table) -> (table or None, onclause, {property: column})`:
    an outer join (if any) and the per-site properties it adds to the sites GeoJSON."""
    if provider not in _site_column_providers:
        _site_column_providers.append(provider)


def register_area_enricher(function) -> None:
    if function not in _area_enrichers:
        _area_enrichers.append(function)


VisibleProperties = Callable[[int], "frozenset[str] | None"]
ProjectArea = Callable[[int, dict], dict]


def sites_feature_collection(session: Session, operation_ids: Sequence[int], *,
                             visible_properties: VisibleProperties, bbox: BBox | None = None,
                             pcode: str | None = None) -> bytes:
    """The sites as GeoJSON, built by the database (one statement per audience).
    `visible_properties(operation_id)`: the properties its sites show (None: all), as
    crisis_ct.projection.sites decides for the caller."""
    features = _joined_arrays(_site_features(session, ids, names, bbox=bbox, pcode=pcode)
                              for names, ids in _by_visibility(operation_ids, visible_properties))
    return orjson.dumps({"type": "FeatureCollection", "disclaimer": DISCLAIMER,
                         "features": orjson.Fragment(features)})


def _by_visibility(operation_ids: Sequence[int], visible_properties: VisibleProperties):
    """(visible properties, operation ids): one statement per audience."""
    groups: dict[frozenset[str] | None, list[int]] = {}
    for operation_id in operation_ids:
        groups.setdefault(visible_properties(operation_id), []).append(operation_id)
    return groups.items()


def _joined_arrays(arrays) -> str:
    """JSON arrays (text) joined into one, without parsing them."""
    items = [array.strip()[1:-1].strip() for array in arrays]
    return "[" + ",".join(item for item in items if item) + "]"


def _site_features(session: Session, operation_ids: Sequence[int], names: frozenset[str] | None, *,
                   bbox: BBox | None, pcode: str | None) -> str:
    builder = spatial_sql(session)
    table = Site.__table__
    source, columns = _site_columns(session, names)
    properties: list = []
    for name, column in columns.items():
        properties += [name, column]
    feature = builder.json_object(
        "type", "Feature", "id", table.c.site_code,
        "geometry", builder.point_json(table.c.geom),
        "properties", builder.json_object(*properties))
    return _json_array_of(session, feature, source, operation_ids, bbox=bbox, pcode=pcode)


def _site_columns(session: Session, names: frozenset[str] | None) -> tuple[sa.FromClause, dict]:
    """The joined tables and {property: column} of the properties in `names` (None: all)."""
    table = Site.__table__
    columns = {
        "site_id": table.c.site_code, "name": table.c.name, "site_type": table.c.site_type,
        "population": table.c.population_individuals, "households": table.c.population_households,
        "adm1_pcode": table.c.adm1_pcode, "adm2_pcode": table.c.adm2_pcode, "adm3_pcode": table.c.adm3_pcode,
    }
    source = table
    for provider in _site_column_providers:
        target, onclause, extra = provider(session, table)
        extra = {name: column for name, column in extra.items() if names is None or name in names}
        if target is not None and extra:
            source = source.outerjoin(target, onclause)
        columns.update(extra)
    return source, {name: column for name, column in columns.items() if names is None or name in names}


def _json_array_of(session: Session, item, source, operation_ids: Sequence[int], *,
                   bbox: BBox | None, pcode: str | None) -> str:
    """The JSON array (text) of `item` over the operations' sites, in site order."""
    builder = spatial_sql(session)
    table = Site.__table__
    inner = sa.select(item.label("item")).select_from(source) \
        .where(table.c.operation_id.in_(list(operation_ids))).order_by(table.c.id)
    if bbox:
        inner = inner.where(builder.bbox_filter(table, bbox))
    if pcode:
        inner = inner.where(sa.or_(table.c.adm1_pcode == pcode, table.c.adm2_pcode == pcode,
                                   table.c.adm3_pcode == pcode))
    ordered = inner.subquery()
    return session.scalar(sa.select(builder.json_array_agg(ordered.c.item))) or "[]"


# What the risk map draws, filters and shows in a popup, and nothing else.
SITE_ROW_COLUMNS = ("site_id", "name", "lon", "lat", "site_type", "phase", "domain_phases", "confidence",
                    "recency", "assessment_date")


def site_rows(session: Session, operation_ids: Sequence[int], *, visible_properties: VisibleProperties,
              bbox: BBox | None = None, pcode: str | None = None) -> bytes:
    """The sites as one JSON array per site, in the order of `columns` (a property the caller
    may not see is null): the risk map's data, a quarter of the GeoJSON's bytes at 50,000 sites."""
    rows = _joined_arrays(_site_rows(session, ids, names, bbox=bbox, pcode=pcode)
                          for names, ids in _by_visibility(operation_ids, visible_properties))
    return orjson.dumps({"disclaimer": DISCLAIMER, "columns": SITE_ROW_COLUMNS, "rows": orjson.Fragment(rows)})


def _site_rows(session: Session, operation_ids: Sequence[int], names: frozenset[str] | None, *,
               bbox: BBox | None, pcode: str | None) -> str:
    builder = spatial_sql(session)
    source, columns = _site_columns(session, names)
    columns["lon"], columns["lat"] = builder.point_xy(Site.__table__.c.geom, precision=5)  # ~1 m
    row = builder.json_array(*(columns.get(name, sa.null()) for name in SITE_ROW_COLUMNS))
    return _json_array_of(session, row, source, operation_ids, bbox=bbox, pcode=pcode)


def admin_area_feature_collection(session: Session, operation_ids: Sequence[int], *, project: ProjectArea,
                                  level: int | None = None, bbox: BBox | None = None, lang: str = "en",
                                  simplify: float | None = None) -> bytes:
    """`project(operation_id, properties)`: the properties as the caller may see them
    (crisis_ct.projection.areas)."""
    builder = spatial_sql(session)
    table = AdminArea.__table__
    geometry = (builder.simplified_geojson(table.c.geom, simplify) if simplify
                else builder.as_geojson(table.c.geom))
    query = sa.select(
        table.c.id, table.c.operation_id, table.c.pcode, table.c.level, table.c.name_en, table.c.name_fr,
        table.c.parent_pcode, table.c.valid_on, geometry.label("geojson"),
    ).where(table.c.operation_id.in_(list(operation_ids))).order_by(table.c.level, table.c.pcode)
    if level is not None:
        query = query.where(table.c.level == level)
    if bbox:
        query = query.where(builder.bbox_filter(table, bbox))
    rows = session.execute(query).all()
    extra: dict[int, dict] = {}
    for enrich in _area_enrichers:
        for area_id, props in enrich(session, [r.id for r in rows]).items():
            extra.setdefault(area_id, {}).update(props)
    features = []
    for row in rows:
        name = (row.name_fr or row.name_en) if lang == "fr" else (row.name_en or row.name_fr)
        features.append({
            "type": "Feature",
            "id": row.pcode,
            # The database already wrote this geometry as JSON: pass it through unparsed.
            "geometry": orjson.Fragment(row.geojson),
            "properties": project(row.operation_id, {
                "pcode": row.pcode, "level": row.level, "name": name, "name_en": row.name_en,
                "name_fr": row.name_fr, "parent_pcode": row.parent_pcode,
                "valid_on": row.valid_on.isoformat() if row.valid_on else None,
                **extra.get(row.id, {}),
            }),
        })
    return orjson.dumps({"type": "FeatureCollection", "disclaimer": DISCLAIMER, "features": features})
