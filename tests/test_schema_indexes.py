"""The migrations build every index the models declare, on both databases: queries are
written against the models, and an index missing from the migrated schema only shows
as a slow query at scale (the notification detector's window reads, issue 18)."""
from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry

from crisis_ct.models import metadata


def is_spatial(index: sa.Index) -> bool:
    return any(isinstance(column.type, Geometry) for column in index.columns)


def test_every_index_the_models_declare_exists_after_the_migrations(database):
    inspector = sa.inspect(database.engine)
    missing = []
    for table in metadata.sorted_tables:
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        # A unique constraint may come back as an index or as a constraint, depending on the engine.
        present |= {constraint["name"] for constraint in inspector.get_unique_constraints(table.name)}
        for index in table.indexes:
            # SpatiaLite keeps a spatial index as an R*Tree virtual table of the index's name.
            found = (inspector.has_table(index.name) if database.dialect == "sqlite" and is_spatial(index)
                     else index.name in present)
            if not found:
                missing.append(f"{table.name}.{index.name}")
    assert missing == []
