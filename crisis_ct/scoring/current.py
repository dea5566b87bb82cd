"""What every writer of scores shares: the catalogue in use, the scoring lock, and the
flip of a place's current score row (site or admin area)."""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from crisis_ct.db import is_postgres, transaction_lock
from crisis_ct.scoring.catalogue import Catalogue, load_catalogue

# Held by every transaction that writes scores (see crisis_ct.scoring.drain).
SCORING_LOCK = "crisis_ct.scoring.write"


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return load_catalogue()


def mark_not_current(session: Session, column, ids: Sequence[int]) -> None:
    """Clear is_current on the current rows of these places (column: the place's id column)."""
    if not ids:
        return
    table = column.table
    # Whoever clears a current row and writes the next one holds the scoring lock, so two
    # writers never both insert a current row (uq_site_risk_scores_current).
    transaction_lock(session, SCORING_LOCK)
    if is_postgres(session):
        # One statement with one array parameter, whatever the number of places.
        ids_param = sa.bindparam("ids", list(ids), type_=ARRAY(sa.Integer))
        session.execute(sa.update(table).where(column == sa.any_(ids_param), table.c.is_current)
                        .values(is_current=False))
        return
    for start in range(0, len(ids), 1000):
        session.execute(sa.update(table).where(column.in_(ids[start:start + 1000]), table.c.is_current)
                        .values(is_current=False))
