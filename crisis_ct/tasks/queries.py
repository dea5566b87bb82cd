"""Read side of tasks: the filtered, paged list and the JSON shape of one task."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from typing import NamedTuple, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from crisis_ct.accounts.models import User
from crisis_ct.accounts.principal import Principal
from crisis_ct.geography.models import AdminArea, Operation, Site
from crisis_ct.projection import tasks as task_projection
from crisis_ct.projection.counts import MIN_SHOWN
from crisis_ct.scoring.models import AdminAreaRiskScore
from crisis_ct.scoring.reads import indicator_domain as domain_of
from crisis_ct.spatial import spatial_sql
from crisis_ct.tasks import states, task_sites
from crisis_ct.tasks.history import CREATED_EVENT
from crisis_ct.tasks.claims import held_condition, is_held
from crisis_ct.tasks.models import MitigationRuleText, MitigationTask, TaskHistory

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
    any_expertise: tuple[str, ...] = ()  # tasks needing any of these tags (someone's profile)
    held_by: int | None = None  # tasks this user holds now (an unexpired claim)


def _priority_order(priorities: Sequence[str]) -> sa.ColumnElement[int]:
    return sa.case({code: rank for rank, code in enumerate(priorities)}, value=TASK.priority,
                   else_=len(priorities))


def list_tasks(session: Session, operation_ids: Sequence[int], filters: TaskFilters, *,
               priorities: Sequence[str], now: datetime, limit: int, offset: int,
               admin_level_only: Sequence[int] = ()) -> tuple[int, list[dict]]:
    """`admin_level_only`: operations (among operation_ids) whose tasks the caller sees only
    as partners do (crisis_ct.projection.tasks.partner_may_see)."""
    area = AdminArea  # an area task's place (its own polygon for `near`)
    distance = None
    query = (sa.select(TASK, Site, area, Operation.code)
             .join(Operation, Operation.id == TASK.operation_id)
             .outerjoin(Site, Site.id == TASK.site_id)
             .outerjoin(area, area.id == TASK.admin_area_id)
             .where(TASK.operation_id.in_(list(operation_ids))))
    if admin_level_only:
        query = query.where(partner_task_condition(admin_level_only))
    if filters.status:
        query = query.where(_status_condition(filters.status, now))
    if filters.priority:
        query = query.where(TASK.priority == filters.priority)
    if filters.expertise:
        query = query.where(TASK.expertise_tags.like(f"% {filters.expertise.upper()} %"))
    if filters.any_expertise:
        query = query.where(sa.or_(*(TASK.expertise_tags.contains(f" {tag} ", autoescape=True)
                                   for tag in filters.any_expertise)))
    if filters.held_by is not None:
        query = query.where(TASK.claimed_by_user_id == filters.held_by, held_condition(now))
    if filters.languages:
        query = query.where(TASK.operation_id.in_(_operations_using(session, operation_ids, filters.languages)))
    # Which sites an area task lists is site level: partners' area tasks are not found through it.
    lists_sites = TASK.operation_id.not_in(list(admin_level_only)) if admin_level_only else sa.true()
    if filters.site_id:
        # The site's own tasks and the area tasks that list it.
        query = query.where(sa.or_(Site.site_code == filters.site_id,
                                   sa.and_(lists_sites, TASK.id.in_(task_sites.listing_site(filters.site_id)))))
    if filters.pcode:
        query = query.where(sa.or_(Site.adm1_pcode == filters.pcode, Site.adm2_pcode == filters.pcode,
                                   Site.adm3_pcode == filters.pcode, area.pcode == filters.pcode,
                                   sa.and_(lists_sites, TASK.id.in_(task_sites.listing_site_in(filters.pcode)))))
    if filters.needs_review is not None:
        query = query.where(TASK.needs_review == filters.needs_review)
    order = [_priority_order(priorities), TASK.due_at, TASK.id]
    if filters.near is not None:
        # A site task is where its site is; an area task is its admin area (distance 0 from
        # anywhere inside it), so an expert in a district sees the district's campaigns.
        builder = spatial_sql(session)
        lon, lat = filters.near
        distance = sa.func.coalesce(builder.distance_m(Site.geom, lon, lat),
                                    builder.distance_m(area.geom, lon, lat)).label("distance_m")
        query = query.add_columns(distance)
        if filters.within_km is not None:
            metres = filters.within_km * 1000
            query = query.where(sa.or_(builder.within_m(Site.__table__, Site.geom, lon, lat, metres),
                                       builder.within_m(area.__table__, area.geom, lon, lat, metres)))
        else:
            query = query.where(sa.or_(Site.geom.is_not(None), area.geom.is_not(None)))
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
    task_sites.attach_sites(session, items, limit=task_sites.LIST_SITES)
    return total, items


def partner_task_condition(admin_level_only: Sequence[int]) -> sa.ColumnElement[bool]:
    """Tasks that are visible: all of the other operations', and of `admin_level_only`
    operations the area tasks of areas whose current score has >= 3 assessed sites
    (crisis_ct.projection.tasks.partner_may_see, in SQL)."""
    shown_areas = sa.select(AdminAreaRiskScore.admin_area_id).where(
        AdminAreaRiskScore.is_current, AdminAreaRiskScore.operation_id.in_(list(admin_level_only)),
        AdminAreaRiskScore.summary["sites_assessed"].as_integer() >= MIN_SHOWN)
    return sa.or_(TASK.operation_id.not_in(list(admin_level_only)),
                  sa.and_(TASK.scope == task_projection.AREA_SCOPE, TASK.admin_area_id.in_(shown_areas)))


def partner_may_see(session: Session, task: MitigationTask) -> bool:
    """Whether a partner (viewer) of the task's operation sees this task at all."""
    assessed = None
    if task.admin_area_id is not None:
        summary = session.scalar(sa.select(AdminAreaRiskScore.summary).where(
            AdminAreaRiskScore.admin_area_id == task.admin_area_id, AdminAreaRiskScore.is_current))
        assessed = (summary or {}).get("sites_assessed")
    return task_projection.partner_may_see(task.scope, assessed)


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
    population_households: int | None


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
                  Site.adm2_pcode, Site.adm3_pcode, Site.population_households, area.pcode, Operation.code,
                  User.id, User.display_name)
        .join(Operation, Operation.id == TASK.operation_id)
        .outerjoin(Site, Site.id == TASK.site_id)
        .outerjoin(area, area.id == TASK.admin_area_id)
        .outerjoin(User, User.id == TASK.claimed_by_user_id)
        .where(TASK.id == task_id)).one()
    task = row[0] if task is None else task
    site = _SitePart(*row[1:7]) if row[1] is not None else None
    admin_area = _AreaPart(row[7]) if row[7] is not None else None
    holder = _HolderPart(row[9], row[10]) if row[9] is not None and is_held(task, now) else None
    item = task_json(task, site=site, admin_area=admin_area, operation_code=row[8], holder=holder, now=now)
    task_sites.attach_sites(session, [item])
    if with_history:
        item["history"] = task_history(session, task)
    return item


@lru_cache(maxsize=1)
def returned_columns() -> tuple[sa.ColumnElement, ...]:
    """What one_task_json shows besides the task row's own columns (its texts, place,
    operation and holder), as labelled sub-selects correlated to the task row: an UPDATE of
    one task RETURNs them, so a claim answers without reading the task again. Built once:
    the same objects each time let a statement built around them be cached too."""
    tasks = TASK.__table__

    def of(column: sa.Column, key: sa.Column, label: str) -> sa.Label:
        return (sa.select(column).where(column.table.c.id == key).correlate(tasks)
                .scalar_subquery().label(label))
    texts, sites = MitigationRuleText.__table__, Site.__table__
    return (of(texts.c.title, tasks.c.rule_text_id, "text_title"),
            of(texts.c.description, tasks.c.rule_text_id, "text_description"),
            *(of(sites.c[name], tasks.c.site_id, f"site_{name}")
              for name in ("site_code", "name", "adm1_pcode", "adm2_pcode", "adm3_pcode",
                           "population_households")),
            of(AdminArea.__table__.c.pcode, tasks.c.admin_area_id, "area_pcode"),
            of(Operation.__table__.c.code, tasks.c.operation_id, "operation_code"),
            of(User.__table__.c.display_name, tasks.c.claimed_by_user_id, "holder_display_name"))


class _ReturnedTask:
    """A row of every task column plus returned_columns(), read the way task_json reads a
    MitigationTask, without building an ORM object for a row nothing else will touch."""

    __slots__ = ("_row",)

    def __init__(self, row):
        self._row = row

    def __getattr__(self, name: str):
        return getattr(self._row, name)

    @property
    def title(self) -> dict:
        return self._row.text_title

    @property
    def description(self) -> dict:
        return self._row.text_description

    @property
    def expertise(self) -> list[str]:
        return self._row.expertise_tags.split()

    @property
    def score_id(self) -> int | None:
        return self._row.site_score_id if self._row.scope == "site" else self._row.area_score_id


def returned_task_json(row, *, now: datetime) -> dict:
    """one_task_json without history, from a row of every task column and returned_columns()."""
    task = _ReturnedTask(row)
    site = (_SitePart(row.site_site_code, row.site_name, row.site_adm1_pcode, row.site_adm2_pcode,
                      row.site_adm3_pcode, row.site_population_households)
            if row.site_site_code is not None else None)
    admin_area = _AreaPart(row.area_pcode) if row.area_pcode is not None else None
    holder = (_HolderPart(row.claimed_by_user_id, row.holder_display_name)
              if row.holder_display_name is not None and is_held(task, now) else None)
    return task_json(task, site=site, admin_area=admin_area, operation_code=row.operation_code, holder=holder,
                     now=now)


def task_history(session: Session, task: MitigationTask) -> list[dict]:
    """Creation first, then every stored event. A task is created once, by the generator, at
    its created_at: that row is the creation record (crisis_ct.tasks.history.CREATED_EVENT)."""
    rows = session.scalars(sa.select(TaskHistory).where(TaskHistory.task_id == task.id)
                           .order_by(TaskHistory.at, TaskHistory.id))
    created = {"at": _iso(task.created_at), **CREATED_EVENT}
    return [created] + [{"at": _iso(row.at), "actor": row.actor, "action": row.action,
                         "from_status": row.from_status, "to_status": row.to_status, "comment": row.comment}
                        for row in rows]


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
        # Under the small-site rule for everyone (domain.md §4.3): no E-domain answer at a small site.
        "evidence": task_projection.evidence(task.evidence, households=site.population_households if site else None,
                                             site_scope=site is not None, domain_of=domain_of),
        "score_id": task.score_id,
        "assessment_date": task.assessment_date.isoformat() if task.assessment_date else None,
        "created_at": _iso(task.created_at),
        "updated_at": _iso(task.updated_at),
        "operation": operation_code,
    }


def as_seen_by(principal: Principal, item: dict) -> dict:
    """The task JSON as this principal may see it (crisis_ct.projection.tasks.task): whole for
    experts and above; for a viewer only the admin-level fields, without evidence, holder,
    actors or comments."""
    return task_projection.task(principal, item)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
