"""Reading boundary and site files into checked rows. No database here.

Every problem names the file, the row (1-based data row; header is row 0 for CSV)
and the field, so whoever prepared the file can fix it.
"""
from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterator

from shapely.geometry import MultiPolygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from crisis_ct.geography.models import SITE_TYPES

PCODE_PATTERN = re.compile(r"^[A-Z]{2,3}[0-9]*$")


class GeoImportError(ValueError):
    def __init__(self, path: Path | str, row: int | None, field: str | None, problem: str):
        where = str(path)
        if row is not None:
            where += f": row {row}"
        if field:
            where += f": field '{field}'"
        super().__init__(f"{where}: {problem}")
        self.path, self.row, self.field, self.problem = str(path), row, field, problem


@dataclass(frozen=True)
class AdminAreaRow:
    pcode: str
    level: int
    name_en: str | None
    name_fr: str | None
    parent_pcode: str | None
    valid_on: date | None
    geometry: MultiPolygon


@dataclass(frozen=True)
class AreaFields:
    """Which properties hold what; COD-AB's classic names by default."""

    pcode: str
    name_en: str
    name_fr: str
    parent_pcode: str | None

    @classmethod
    def for_level(cls, level: int) -> "AreaFields":
        return cls(f"ADM{level}_PCODE", f"ADM{level}_EN", f"ADM{level}_FR",
                   f"ADM{level - 1}_PCODE" if level > 1 else None)


@dataclass(frozen=True)
class SiteRow:
    row: int
    site_code: str
    name: str
    site_type: str
    lon: float
    lat: float
    population_individuals: int | None
    population_households: int | None
    site_code_source: str | None
    pcodes: dict[int, str]  # as given in the file, checked against placement


def _check_pcode(path, row, field, value) -> str:
    pcode = (value or "").strip().upper()
    if not pcode:
        raise GeoImportError(path, row, field, "a P-code is required")
    if not PCODE_PATTERN.match(pcode):
        raise GeoImportError(path, row, field,
                             f"'{value}' is not a P-code (country letters then digits, no separators)")
    return pcode


def _load_geojson(path: Path) -> list[dict]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GeoImportError(path, None, None, f"not a readable GeoJSON file ({exc})") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise GeoImportError(path, None, None, "expected a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise GeoImportError(path, None, "features", "expected a list of features")
    return features


def _as_multipolygon(path, row, geometry: dict | None) -> MultiPolygon:
    if not geometry:
        raise GeoImportError(path, row, "geometry", "a polygon geometry is required")
    try:
        geom: BaseGeometry = shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise GeoImportError(path, row, "geometry", f"not a valid GeoJSON geometry ({exc})") from exc
    if geom.geom_type == "Polygon":
        geom = MultiPolygon([geom])
    if geom.geom_type != "MultiPolygon":
        raise GeoImportError(path, row, "geometry", f"expected Polygon or MultiPolygon, got {geom.geom_type}")
    if geom.is_empty or not geom.is_valid:
        raise GeoImportError(path, row, "geometry", f"invalid polygon: {explain_validity(geom)}")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise GeoImportError(path, row, "geometry", "coordinates are not longitude/latitude in EPSG:4326")
    return geom


def _parse_date(path, row, field, value) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise GeoImportError(path, row, field, f"'{value}' is not a date (YYYY-MM-DD)") from exc


def read_admin_areas(path: Path | str, level: int, fields: AreaFields | None = None) -> list[AdminAreaRow]:
    path = Path(path)
    if level < 1:
        raise GeoImportError(path, None, None, "admin level must be 1 or more")
    fields = fields or AreaFields.for_level(level)
    rows: list[AdminAreaRow] = []
    seen: set[str] = set()
    for index, feature in enumerate(_load_geojson(path), start=1):
        properties = feature.get("properties") or {}
        pcode = _check_pcode(path, index, fields.pcode, properties.get(fields.pcode))
        if pcode in seen:
            raise GeoImportError(path, index, fields.pcode, f"P-code {pcode} appears twice")
        seen.add(pcode)
        parent = None
        if fields.parent_pcode:
            parent = _check_pcode(path, index, fields.parent_pcode, properties.get(fields.parent_pcode))
            if not pcode.startswith(parent) and level > 1:
                raise GeoImportError(path, index, fields.pcode,
                                     f"P-code {pcode} does not start with its parent's P-code {parent}")
        name_en = (properties.get(fields.name_en) or "").strip() or None
        name_fr = (properties.get(fields.name_fr) or "").strip() or None
        if not (name_en or name_fr):
            raise GeoImportError(path, index, fields.name_en, f"a name is required ({fields.name_en} or {fields.name_fr})")
        rows.append(AdminAreaRow(
            pcode=pcode, level=level, name_en=name_en, name_fr=name_fr, parent_pcode=parent,
            valid_on=_parse_date(path, index, "valid_on", properties.get("valid_on")),
            geometry=_as_multipolygon(path, index, feature.get("geometry")),
        ))
    return rows


SITE_COLUMNS = {
    "site_code": ("site_id", "site_code", "ssid"),
    "name": ("site_name", "name"),
    "site_type": ("site_type", "type"),
    "lat": ("latitude", "lat", "y"),
    "lon": ("longitude", "lon", "lng", "x"),
    "population_individuals": ("population_individuals", "individuals", "ind"),
    "population_households": ("population_households", "households", "hh"),
    "site_code_source": ("site_id_source", "site_code_source"),
}


def _pick(record: dict, field: str):
    for name in SITE_COLUMNS[field]:
        if name in record and record[name] not in (None, ""):
            return name, record[name]
    return SITE_COLUMNS[field][0], None


def _number(path, row, name, value, *, lo: float, hi: float) -> float:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise GeoImportError(path, row, name, f"'{value}' is not a number") from exc
    if not math.isfinite(number) or not lo <= number <= hi:
        raise GeoImportError(path, row, name, f"{value} is outside {lo}..{hi}")
    return number


def _count(path, row, name, value) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = float(str(value).strip())
    except ValueError as exc:
        raise GeoImportError(path, row, name, f"'{value}' is not a whole number") from exc
    if number < 0 or number != int(number):
        raise GeoImportError(path, row, name, f"'{value}' is not a whole number of people")
    return int(number)


def _site_row(path, row: int, record: dict, *, lon=None, lat=None) -> SiteRow:
    name_field, code = _pick(record, "site_code")
    code = (str(code).strip() if code is not None else "")
    if not code:
        raise GeoImportError(path, row, name_field, "a site id is required")
    name_field, name = _pick(record, "name")
    if not name or not str(name).strip():
        raise GeoImportError(path, row, name_field, "a site name is required")
    type_field, site_type = _pick(record, "site_type")
    site_type = (str(site_type or "")).strip()
    if site_type not in SITE_TYPES:
        raise GeoImportError(path, row, type_field,
                             f"'{site_type}' is not a site type; use one of {', '.join(SITE_TYPES)}")
    if lon is None:
        lat_field, lat = _pick(record, "lat")
        lon_field, lon = _pick(record, "lon")
        lat = _number(path, row, lat_field, lat, lo=-90, hi=90)
        lon = _number(path, row, lon_field, lon, lo=-180, hi=180)
    ind_field, individuals = _pick(record, "population_individuals")
    hh_field, households = _pick(record, "population_households")
    _, source = _pick(record, "site_code_source")
    pcodes = {}
    for level in (1, 2, 3):
        value = record.get(f"adm{level}_pcode") or record.get(f"ADM{level}_PCODE")
        if value:
            pcodes[level] = _check_pcode(path, row, f"adm{level}_pcode", value)
    return SiteRow(
        row=row, site_code=code, name=str(name).strip(), site_type=site_type, lon=lon, lat=lat,
        population_individuals=_count(path, row, ind_field, individuals),
        population_households=_count(path, row, hh_field, households),
        site_code_source=(str(source).strip() or None) if source else None,
        pcodes=pcodes,
    )


def read_sites(path: Path | str) -> Iterator[SiteRow]:
    """Sites from a DTM-style CSV (comma or semicolon) or a GeoJSON of points."""
    path = Path(path)
    if path.suffix.lower() in {".geojson", ".json"}:
        yield from _read_site_features(path)
        return
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise GeoImportError(path, None, None, f"cannot read the file ({exc})") from exc
    with handle:
        sample = handle.read(4096)
        handle.seek(0)
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        reader = csv.DictReader(handle, delimiter=delimiter)
        header = [name.strip() for name in reader.fieldnames or []]
        for field in ("site_code", "name", "site_type", "lat", "lon"):
            if not any(name in header for name in SITE_COLUMNS[field]):
                raise GeoImportError(path, 0, SITE_COLUMNS[field][0], "this column is missing from the header")
        seen: set[str] = set()
        for index, record in enumerate(reader, start=1):
            record = {(k or "").strip(): (v or "").strip() for k, v in record.items() if k}
            site = _site_row(path, index, record)
            if site.site_code in seen:
                raise GeoImportError(path, index, "site_id", f"site id {site.site_code} appears twice")
            seen.add(site.site_code)
            yield site


def _read_site_features(path: Path) -> Iterator[SiteRow]:
    seen: set[str] = set()
    for index, feature in enumerate(_load_geojson(path), start=1):
        geometry = feature.get("geometry") or {}
        if geometry.get("type") != "Point":
            raise GeoImportError(path, index, "geometry", "a site needs a Point geometry")
        try:
            lon, lat = (float(v) for v in geometry["coordinates"][:2])
        except (KeyError, TypeError, ValueError) as exc:
            raise GeoImportError(path, index, "geometry", "point coordinates are not numbers") from exc
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise GeoImportError(path, index, "geometry", "coordinates are not longitude/latitude")
        site = _site_row(path, index, dict(feature.get("properties") or {}), lon=lon, lat=lat)
        if site.site_code in seen:
            raise GeoImportError(path, index, "site_id", f"site id {site.site_code} appears twice")
        seen.add(site.site_code)
        yield site
