"""The SQL that differs between PostGIS and SpatiaLite, behind one small interface.

Callers ask `spatial_sql(session)` for the dialect's builder and never branch on
the database themselves.
"""
from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

BBox = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


def point_ewkt(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon!r} {lat!r})"


class SpatialSQL:
    name = "base"

    def insert(self, table):
        raise NotImplementedError

    def bbox_filter(self, table: sa.Table, bbox: BBox) -> sa.ColumnElement[bool]:
        raise NotImplementedError

    def as_geojson(self, column, precision: int = 6) -> sa.ColumnElement[str]:
        raise NotImplementedError

    def simplified_geojson(self, column, tolerance: float, precision: int = 6) -> sa.ColumnElement[str]:
        raise NotImplementedError

    def distance_m(self, column, lon: float, lat: float) -> sa.ColumnElement[float]:
        """Metres on the WGS 84 ellipsoid between a point column and (lon, lat)."""
        raise NotImplementedError

    def within_m(self, table: sa.Table, column, lon: float, lat: float, metres: float) -> sa.ColumnElement[bool]:
        """Rows whose point lies within `metres`, using the spatial index."""
        raise NotImplementedError

    # JSON built by the database: a 10,000-feature GeoJSON is one text value, no Python loop.
    def json_object(self, *pairs) -> sa.ColumnElement:
        raise NotImplementedError

    def json_array_agg(self, expression) -> sa.ColumnElement[str]:
        """The JSON array of `expression` over the rows, as text ("[]" when none)."""
        raise NotImplementedError

    def json_value(self, column) -> sa.ColumnElement:
        """A stored JSON column, embedded as JSON (not as a string) in json_object."""
        raise NotImplementedError

    def json_array(self, *values) -> sa.ColumnElement:
        raise NotImplementedError

    def point_xy(self, column, precision: int = 6) -> tuple[sa.ColumnElement, sa.ColumnElement]:
        """A point's longitude and latitude, rounded to `precision` decimals."""
        raise NotImplementedError

    def point_json(self, column, precision: int = 6) -> sa.ColumnElement:
        """A point as GeoJSON, from its coordinates: cheaper than parsing ST_AsGeoJSON's text."""
        raise NotImplementedError

    def upsert(self, session: Session, table: sa.Table, rows: Sequence[dict], keys: Sequence[str],
               update: Sequence[str]) -> None:
        if not rows:
            return
        statement = self.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: getattr(statement.excluded, name) for name in update},
        )
        session.execute(statement, list(rows))


def _degree_box(lon: float, lat: float, metres: float) -> BBox:
    """A lon/lat box that surely contains the circle, for an index pre-filter."""
    import math

    dlat = metres / 110_574.0
    dlon = metres / max(1.0, 111_320.0 * math.cos(math.radians(min(89.0, abs(lat)))))
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


class PostgisSQL(SpatialSQL):
    name = "postgis"

    def insert(self, table):
        return postgresql.insert(table)

    def bbox_filter(self, table, bbox):
        envelope = sa.func.ST_MakeEnvelope(*bbox, 4326)
        return table.c.geom.op("&&")(envelope)

    def as_geojson(self, column, precision=6):
        return sa.func.ST_AsGeoJSON(column, precision)

    def simplified_geojson(self, column, tolerance, precision=6):
        return sa.func.ST_AsGeoJSON(sa.func.ST_SimplifyPreserveTopology(column, tolerance), precision)

    def json_object(self, *pairs):
        return sa.func.json_build_object(*pairs)

    def json_array_agg(self, expression):
        return sa.cast(sa.func.coalesce(sa.func.json_agg(expression), sa.text("'[]'::json")), sa.Text)

    def json_value(self, column):
        return column

    def json_array(self, *values):
        return sa.func.json_build_array(*values)

    def point_xy(self, column, precision=6):
        # In double precision (numeric's round is slower): the quotient is the double nearest
        # the rounded decimal, which PostgreSQL prints as that decimal.
        scale = sa.literal(10.0 ** precision, sa.Float)
        return tuple(sa.func.round(value * scale) / scale for value in (sa.func.ST_X(column), sa.func.ST_Y(column)))

    def point_json(self, column, precision=6):
        def coordinate(value):
            return sa.func.round(sa.cast(value, sa.Numeric), precision)

        return sa.func.json_build_object("type", "Point", "coordinates", sa.func.json_build_array(
            coordinate(sa.func.ST_X(column)), coordinate(sa.func.ST_Y(column))))

    def distance_m(self, column, lon, lat):
        return sa.func.ST_DistanceSphere(column, sa.func.ST_SetSRID(sa.func.ST_MakePoint(lon, lat), 4326))

    def within_m(self, table, column, lon, lat, metres):
        box = sa.func.ST_MakeEnvelope(*_degree_box(lon, lat, metres), 4326)
        return sa.and_(column.op("&&")(box), self.distance_m(column, lon, lat) <= metres)


class SpatialiteSQL(SpatialSQL):
    name = "spatialite"

    def insert(self, table):
        return sqlite.insert(table)

    def _index_rowids(self, table: sa.Table, bbox: BBox):
        # SpatiaLite does not use its R*Tree by itself: ask the index for candidate rows.
        return sa.text(
            "SELECT rowid FROM SpatialIndex WHERE f_table_name = :sx_table "
            "AND f_geometry_column = 'geom' AND search_frame = BuildMbr(:sx_x1, :sx_y1, :sx_x2, :sx_y2, 4326)"
        ).bindparams(*(sa.bindparam(name, value, unique=True) for name, value in (
            # unique: one statement may ask two tables' indexes (a task's site or its area)
            ("sx_table", table.name), ("sx_x1", bbox[0]), ("sx_y1", bbox[1]), ("sx_x2", bbox[2]),
            ("sx_y2", bbox[3]))))

    def bbox_filter(self, table, bbox):
        return table.c.id.in_(self._index_rowids(table, bbox))

    def as_geojson(self, column, precision=6):
        return sa.func.AsGeoJSON(column, precision)

    def simplified_geojson(self, column, tolerance, precision=6):
        return sa.func.AsGeoJSON(sa.func.SimplifyPreserveTopology(column, tolerance), precision)

    def json_object(self, *pairs):
        return sa.func.json_object(*pairs)

    def json_array_agg(self, expression):
        # A value read back from a subquery has lost its JSON subtype: json() restores it.
        return sa.func.coalesce(sa.func.json_group_array(sa.func.json(expression)), "[]")

    def json_value(self, column):
        return sa.func.json(column)

    def json_array(self, *values):
        return sa.func.json_array(*values)

    def point_xy(self, column, precision=6):
        return sa.func.round(sa.func.ST_X(column), precision), sa.func.round(sa.func.ST_Y(column), precision)

    def point_json(self, column, precision=6):
        return sa.func.json_object("type", "Point", "coordinates", sa.func.json_array(*self.point_xy(column, precision)))

    def distance_m(self, column, lon, lat):
        return sa.func.ST_Distance(column, sa.func.MakePoint(lon, lat, 4326), 1)

    def within_m(self, table, column, lon, lat, metres):
        candidates = table.c.id.in_(self._index_rowids(table, _degree_box(lon, lat, metres)))
        return sa.and_(candidates, self.distance_m(column, lon, lat) <= metres)


_BUILDERS = {"postgresql": PostgisSQL(), "sqlite": SpatialiteSQL()}


def spatial_sql(bind: Session | sa.Engine | sa.Connection) -> SpatialSQL:
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return _BUILDERS[engine.dialect.name]
