"""Read side of tasks: the filtered, paged list and the JSON shape of one task."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from crisis_ct.accounts.models import User
from crisis_ct.geography.models import AdminArea, Operation, Site
from crisis_ct.spatial import spatial_sql
from crisis_ct.tasks import states
from crisis_ct.tasks.claims import is_held
from crisis_ct.tasks.models import MitigationTask, TaskHistory

TASK = MitigationTask


@dataclass(frozen=True)
class TaskFilters:
    status: str | None = None
    priority: str | None = None
    expertise: str | None = None
    languages: tuple[str, ...] = ()  # operations working in any of these
    site_id: str | None = None  # site code
    pcode: str | None = None
    near: tuple[float, float] | None = None  # lon, lat
    within_km: float | None = None
    needs_review: bool | None = None


def _priority_order(priorities: Sequence[str]) -> sa.ColumnElement[int]:
    return sa.case({code: rank for rank, code in enumerate(priorities)}, value=TASK.priority,
                   else_=len(priorities))


def list_tasks(session: Session, operation_ids: Sequence[int], filters: TaskFilters, *,
               priorities: Sequence[str], now: datetime, limit: int, offset: int) -> tuple[int, list[dict]]:
    area = aliased(AdminArea)
    distance = None
    query = (sa.select(TASK, Site, area, Operation.code)
             .join(Operation, Operation.id == TASK.operation_id)
             .outerjoin(Site, Site.id == TASK.site_id)
             .outerjoin(area, area.id == TASK.admin_area_id)
             .where(TASK.operation_id.in_(list(operation_ids))))
    if filters.status:
        query = query.where(_status_condition(filters.status, now))
    if filters.priority:
        query = query.where(TASK.priority == filters.priority)
    if filters.expertise:
        query = query.where(TASK.expertise_tags.like(f"% {filters.expertise.upper()} %"))
    if filters.languages:
        query = query.where(TASK.operation_id.in_(_operations_using(session, operation_ids, filters.languages)))
    if filters.site_id:
        query = query.where(Site.site_code == filters.site_id)
    if filters.pcode:
        query = query.where(sa.or_(Site.adm1_pcode == filters.pcode, Site.adm2_pcode == filters.pcode,
                                   Site.adm3_pcode == filters.pcode, area.pcode == filters.pcode))
    if filters.needs_review is not None:
        query = query.where(TASK.needs_review == filters.needs_review)
    order = [_priority_order(priorities), TASK.due_at, TASK.id]
    if filters.near is not None:
        # Only site tasks have a point; area tasks cannot be "near".
        builder = spatial_sql(session)
        lon, lat = filters.near
        distance = builder.distance_m(Site.geom, lon, lat).label("distance_m")
        query = query.add_columns(distance)
        if filters.within_km is not None:
            query = query.where(builder.within_m(Site.__table__, Site.geom, lon, lat, filters.within_km * 1000))
        else:
            query = query.where(Site.geom.is_not(None))
        order = [distance, *order]
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(*order).limit(limit).offset(offset)).all()
    holders = _holders(session, [row[0] for row in rows], now)
    items = []
    for row in rows:
        task, site, admin_area, operation_code = row[0], row[1], row[2], row[3]
        item = task_json(task, site=site, admin_area=admin_area, operation_code=operation_code,
                         holder=holders.get(task.id), now=now)
        if distance is not None:
            item["distance_km"] = round(row[4] / 1000, 3)
        items.append(item)
    return total, items


def _status_condition(status: str, now: datetime) -> sa.ColumnElement[bool]:
    """A lapsed claim reads as open before `tasks expire` has run, and not as claimed."""
    lapsed = sa.and_(TASK.status.in_(sorted(states.HELD_STATES)), TASK.claim_expires_at < now)
    if status == states.OPEN:
        return sa.or_(TASK.status == states.OPEN, lapsed)
    if status in states.HELD_STATES:
        return sa.and_(TASK.status == status, sa.not_(lapsed))
    return TASK.status == status


def _operations_using(session: Session, operation_ids: Sequence[int], wanted: Sequence[str]) -> list[int]:
    # Operations are few; reading their language lists avoids JSON operators that differ by database.
    rows = session.execute(sa.select(Operation.id, Operation.languages).where(Operation.id.in_(list(operation_ids))))
    return [op_id for op_id, languages in rows if set(wanted) & set(languages or ())]


def _holders(session: Session, tasks: Sequence[MitigationTask], now: datetime) -> dict[int, User]:
    wanted = {t.claimed_by_user_id for t in tasks if is_held(t, now)}
    if not wanted:
        return {}
    users = {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_(wanted)))}
    return {t.id: users[t.claimed_by_user_id] for t in tasks if is_held(t, now) and t.claimed_by_user_id in users}


class _SitePart(NamedTuple):
    site_code: str
    name: str | None
    adm1_pcode: str | None
    adm2_pcode: str | None
    adm3_pcode: str | None


class _AreaPart(NamedTuple):
    pcode: str


class _HolderPart(NamedTuple):
    id: int
    display_name: str | None


def one_task_json(session: Session, task_id: int, *, now: datetime, with_history: bool = True,
                  task: MitigationTask | None = None) -> dict:
    """`task`: the task already loaded and current (e.g. just updated from RETURNING), so
    only its place, operation and holder are read."""
    # One query for the task and the few columns of its place, operation and holder that
    # task_json shows (not whole Site/AdminArea rows with their geometries): every claim
    # answers with this.
    area = aliased(AdminArea)
    row = session.execute(
        sa.select(TASK.id if task is not None else TASK, Site.site_code, Site.name, Site.adm1_pcode,
                  Site.adm2_pcode, Site.adm3_pcode, area.pcode, Operation.code, User.id, User.display_name)
        .join(Operation, Operation.id == TASK.operation_id)
        .outerjoin(Site, Site.id == TASK.site_id)
        .outerjoin(area, area.id == TASK.admin_area_id)
        .outerjoin(User, User.id == TASK.claimed_by_user_id)
        .where(TASK.id == task_id)).one()
    task = row[0] if task is None else task
    site = _SitePart(*row[1:6]) if row[1] is not None else None
    admin_area = _AreaPart(row[6]) if row[6] is not None else None
    holder = _HolderPart(row[8], row[9]) if row[8] is not None and is_held(task, now) else None
    item = task_json(task, site=site, admin_area=admin_area, operation_code=row[7], holder=holder, now=now)
    if with_history:
        item["history"] = task_history(session, task.id)
    return item


def task_history(session: Session, task_id: int) -> list[dict]:
    rows = session.scalars(sa.select(TaskHistory).where(TaskHistory.task_id == task_id)
                           .order_by(TaskHistory.at, TaskHistory.id))
    return [{"at": _iso(row.at), "actor": row.actor, "action": row.action, "from_status": row.from_status,
             "to_status": row.to_status, "comment": row.comment} for row in rows]


def task_json(task: MitigationTask, *, site: Site | None, admin_area: AdminArea | None, operation_code: str,
              holder: User | None, now: datetime) -> dict:
    claim = None
    if holder is not None and is_held(task, now):
        claim = {"holder": {"id": holder.id, "display_name": holder.display_name},
                 "claimed_at": _iso(task.claimed_at), "expires_at": _iso(task.claim_expires_at),
                 "seconds_left": max(0, int((task.claim_expires_at - now).total_seconds()))}
    status = task.status
    if status in states.HELD_STATES and not is_held(task, now):
        status = states.OPEN  # a lapsed claim is shown as what it is about to become
    if site is not None:
        pcode = site.adm3_pcode or site.adm2_pcode or site.adm1_pcode
    else:
        pcode = admin_area.pcode if admin_area is not None else None
    return {
        "id": task.id,
        "rule_id": task.rule_id,
        "title": task.title,
        "description": task.description,
        "sector": task.sector,
        "priority": task.priority,
        "status": status,
        "scope": task.scope,
        "site_id": site.site_code if site is not None else None,
        "site_name": site.name if site is not None else None,
        "pcode": pcode,
        "expertise": task.expertise,
        "due_at": _iso(task.due_at),
        "overdue": task.due_at < now and task.status not in (*states.FINAL_STATES, states.DONE),
        "needs_review": task.needs_review,
        "review_reason": task.review_reason,
        "claim": claim,
        "evidence": task.evidence,
        "score_id": task.score_id,
        "assessment_date": task.assessment_date.isoformat() if task.assessment_date else None,
        "created_at": _iso(task.created_at),
        "updated_at": _iso(task.updated_at),
        "operation": operation_code,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
