"""Read queries for sites and admin areas, shaped for GeoJSON output."""
from __future__ import annotations

from typing import Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.products import DISCLAIMER
from crisis_ct.spatial import BBox, spatial_sql

# Extra per-site properties (e.g. the current risk phase) registered by other
# modules, so geography need not know about scoring.
_site_enrichers: list = []
_area_enrichers: list = []


def register_site_enricher(function) -> None:
    if function not in _site_enrichers:
        _site_enrichers.append(function)


def register_area_enricher(function) -> None:
    if function not in _area_enrichers:
        _area_enrichers.append(function)


def site_rows(session: Session, operation_ids: Sequence[int], *, bbox: BBox | None = None,
              pcode: str | None = None, site_codes: Sequence[str] | None = None):
    table = Site.__table__
    query = sa.select(
        table.c.id, table.c.operation_id, table.c.site_code, table.c.name, table.c.site_type,
        table.c.population_individuals, table.c.population_households,
        table.c.adm1_pcode, table.c.adm2_pcode, table.c.adm3_pcode,
        sa.func.ST_X(table.c.geom).label("lon"), sa.func.ST_Y(table.c.geom).label("lat"),
    ).where(table.c.operation_id.in_(list(operation_ids))).order_by(table.c.id)
    if bbox:
        query = query.where(spatial_sql(session).bbox_filter(table, bbox))
    if pcode:
        query = query.where(sa.or_(table.c.adm1_pcode == pcode, table.c.adm2_pcode == pcode,
                                   table.c.adm3_pcode == pcode))
    if site_codes is not None:
        query = query.where(table.c.site_code.in_(list(site_codes)))
    return session.execute(query).all()


def site_properties(row) -> dict:
    return {
        "site_id": row.site_code,
        "name": row.name,
        "site_type": row.site_type,
        "population": row.population_individuals,
        "households": row.population_households,
        "adm1_pcode": row.adm1_pcode,
        "adm2_pcode": row.adm2_pcode,
        "adm3_pcode": row.adm3_pcode,
    }


def sites_feature_collection(session: Session, operation_ids: Sequence[int], **filters) -> bytes:
    rows = site_rows(session, operation_ids, **filters)
    extra: dict[int, dict] = {}
    for enrich in _site_enrichers:
        for site_id, props in enrich(session, [r.id for r in rows]).items():
            extra.setdefault(site_id, {}).update(props)
    features = [
        {
            "type": "Feature",
            "id": row.site_code,
            "geometry": {"type": "Point", "coordinates": [round(row.lon, 6), round(row.lat, 6)]},
            "properties": {**site_properties(row), **extra.get(row.id, {})},
        }
        for row in rows
    ]
    return orjson.dumps({"type": "FeatureCollection", "disclaimer": DISCLAIMER, "features": features})


def admin_area_feature_collection(session: Session, operation_ids: Sequence[int], *, level: int | None = None,
                                  bbox: BBox | None = None, lang: str = "en",
                                  simplify: float | None = None) -> bytes:
    builder = spatial_sql(session)
    table = AdminArea.__table__
    geometry = (builder.simplified_geojson(table.c.geom, simplify) if simplify
                else builder.as_geojson(table.c.geom))
    query = sa.select(
        table.c.id, table.c.pcode, table.c.level, table.c.name_en, table.c.name_fr, table.c.parent_pcode,
        table.c.valid_on, geometry.label("geojson"),
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
            "properties": {
                "pcode": row.pcode, "level": row.level, "name": name, "name_en": row.name_en,
                "name_fr": row.name_fr, "parent_pcode": row.parent_pcode,
                "valid_on": row.valid_on.isoformat() if row.valid_on else None,
                **extra.get(row.id, {}),
            },
        })
    return orjson.dumps({"type": "FeatureCollection", "disclaimer": DISCLAIMER, "features": features})
