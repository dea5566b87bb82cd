"""Sites and admin areas with their risk properties, read through the same geography
queries as the GeoJSON API, so the list view shows exactly what the map shows
(including whatever the scoring module's enrichers add)."""
from __future__ import annotations

from typing import Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.principal import Principal
from crisis_ct.geography import queries
from crisis_ct.geography.models import Site
from crisis_ct.projection import areas, sites
from crisis_ct.scoring.reads import partner_counts_reader

# The list view never draws geometry: ask for the coarsest outline the API allows.
_LIST_SIMPLIFY = 1.0


def site_records(session: Session, principal: Principal, operation_ids: Sequence[int]) -> list[dict]:
    if not operation_ids:
        return []
    collection = orjson.loads(queries.sites_feature_collection(
        session, operation_ids, visible_properties=lambda op: sites.visible_properties(principal, op)))
    return [feature["properties"] for feature in collection["features"]]


def area_records(session: Session, principal: Principal, operation_ids: Sequence[int], level: int,
                 lang: str) -> list[dict]:
    if not operation_ids:
        return []
    counts_of = partner_counts_reader(session)
    collection = orjson.loads(queries.admin_area_feature_collection(
        session, operation_ids, level=level, lang=lang, simplify=_LIST_SIMPLIFY,
        project=lambda op, properties: areas.area(principal, op, properties, counts_of)))
    return [feature["properties"] for feature in collection["features"]]


def site_count(session: Session, operation_ids: Sequence[int]) -> int:
    if not operation_ids:
        return 0
    return session.scalar(
        sa.select(sa.func.count()).select_from(Site).where(Site.operation_id.in_(list(operation_ids)))
    ) or 0
