"""Reads the task pages need beyond crisis_ct.tasks.queries: whom a coordinator can
assign, which sites to offer as "near this site", and where a site lies."""
from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.models import Membership, ROLE_RANK, User
from crisis_ct.geography.models import Site

EXPERT_ROLES = tuple(role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK["expert"])


def experts_of_operation(session: Session, operation_id: int) -> list[User]:
    """Active people who may hold a task of the operation (experts and above), by name."""
    return list(session.scalars(
        sa.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.operation_id == operation_id, Membership.role.in_(EXPERT_ROLES), User.is_active)
        .order_by(User.display_name, User.id)))


def find_expert(session: Session, operation_id: int, user_id: object) -> User | None:
    try:
        wanted = int(user_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return next((user for user in experts_of_operation(session, operation_id) if user.id == wanted), None)


def site_choices(session: Session, operation_ids: Sequence[int]) -> list[tuple[str, str]]:
    """(site code, name) of every site, for the "near this site" select."""
    if not operation_ids:
        return []
    return [(code, name) for code, name in session.execute(
        sa.select(Site.site_code, Site.name).where(Site.operation_id.in_(list(operation_ids)))
        .order_by(Site.name, Site.site_code))]


def site_location(session: Session, operation_ids: Sequence[int], site_code: str) -> tuple[float, float] | None:
    """(lon, lat) of the site, or None when it is unknown or has no point."""
    if not site_code or not operation_ids:
        return None
    row = session.execute(
        sa.select(sa.func.ST_X(Site.geom), sa.func.ST_Y(Site.geom))
        .where(Site.site_code == site_code, Site.operation_id.in_(list(operation_ids)), Site.geom.is_not(None))
        .order_by(Site.id).limit(1)).first()
    if row is None or row[0] is None:
        return None
    return float(row[0]), float(row[1])
