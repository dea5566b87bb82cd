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
    # Whoever clears a current row and writes the next one holds the scoring lock, so two
    # writers never both insert a current row (uq_site_risk_scores_current).
    transaction_lock(session, SCORING_LOCK)
    postgres = is_postgres(session)
    statement = _clear_current(column, postgres)
    if postgres:
        session.execute(statement, {"ids": list(ids)})
        return
    for start in range(0, len(ids), 1000):
        session.execute(statement, {"ids": list(ids[start:start + 1000])})


@lru_cache(maxsize=None)
def _clear_current(column, postgres: bool) -> sa.Update:
    """The UPDATE for one kind of place, built once (a re-score of one site runs it each time)."""
    if postgres:
        # One statement with one array parameter, whatever the number of places.
        which = column == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.Integer)))
    else:
        which = column.in_(sa.bindparam("ids", expanding=True))
    return sa.update(column.table).where(which, column.table.c.is_current).values(is_current=False)
