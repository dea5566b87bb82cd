"""Spatial DDL for the migrations: the same call on PostGIS and SpatiaLite."""
from __future__ import annotations

from alembic import op


def is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def enable_spatial() -> None:
    bind = op.get_bind()
    if is_sqlite():
        has_meta = bind.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'spatial_ref_sys'"
        ).scalar()
        if not has_meta:
            # 0: we are already inside the migration's transaction; WGS84 keeps it
            # to the reference systems a lon/lat service can meet.
            bind.exec_driver_sql("SELECT InitSpatialMetaData(0, 'WGS84')")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def add_geometry(table: str, column: str, geometry_type: str, srid: int = 4326) -> None:
    """Add a geometry column with its spatial index."""
    if is_sqlite():
        op.get_bind().exec_driver_sql(
            f"SELECT AddGeometryColumn('{table}', '{column}', {srid}, '{geometry_type}', 'XY')"
        )
        op.get_bind().exec_driver_sql(f"SELECT CreateSpatialIndex('{table}', '{column}')")
    else:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} geometry({geometry_type}, {srid})")
        op.execute(f"CREATE INDEX idx_{table}_{column} ON {table} USING gist ({column})")


def drop_geometry(table: str, column: str) -> None:
    if is_sqlite():
        op.get_bind().exec_driver_sql(f"SELECT DisableSpatialIndex('{table}', '{column}')")
        op.get_bind().exec_driver_sql(f"DROP TABLE IF EXISTS idx_{table}_{column}")
        op.get_bind().exec_driver_sql(f"SELECT DiscardGeometryColumn('{table}', '{column}')")
    else:
        op.execute(f"DROP INDEX IF EXISTS idx_{table}_{column}")
