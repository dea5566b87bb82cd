"""The 4W of mitigation work — who (the organisation of the person who completed the task, or
holds it), what (rule, sector, theory-of-change area), where (admin area), when (opened,
claimed, completed, overdue) — for the dashboard table and the 4W export.

Experts and above get one row per task of their operations. Partners (viewers) get admin-level
aggregates only, built from the tasks their projection shows them (area tasks where the area's
phase is shown: crisis_ct.tasks.queries.partner_task_condition) with counts of 1–2 shown as
"<3" (crisis_ct.projection.counts). Aggregates are counted by the database (a full operation
has ~130,000 tasks) and merged by theory-of-change area here (the area is the rule's, in
forms/mitigation_rules.yaml)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Iterable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from crisis_ct.accounts.models import User
from crisis_ct.accounts.principal import Principal
from crisis_ct.exports.sources import BATCH, AreaIndex
from crisis_ct.geography.models import AdminArea, Operation, Site
from crisis_ct.projection import counts
from crisis_ct.projection.audience import split_by_audience
from crisis_ct.tasks import states
from crisis_ct.tasks.models import MitigationTask, TaskHistory
from crisis_ct.tasks.queries import partner_task_condition
from crisis_ct.tasks.service import catalogues
from crisis_ct.tasks.theory_of_change import toc_label

TASK = MitigationTask
# As the history records them (crisis_ct.tasks.states.RECORDED_AS).
CLAIM_ACTIONS = tuple(states.RECORDED_AS[action] for action in ("claim", "assign"))
COMPLETE_ACTION = states.RECORDED_AS["complete"]
GROUP_KEYS = ("operation", "organisation", "sector", "sector_label", "toc_area", "toc_label", "adm1_pcode", "adm2_pcode", "pcode",
              "area_name")
COUNT_KEYS = ("opened", "claimed", "completed", "overdue")


def _task_columns(operation_ids: Sequence[int], *, now: datetime, admin_level_only: Sequence[int],
                  pcode: str | None) -> sa.Subquery:
    """One row per task: its who, what, where and when as columns."""
    history = TaskHistory.__table__
    first_claim = (sa.select(history.c.task_id, sa.func.min(history.c.at).label("at"))
                   .where(history.c.action.in_(CLAIM_ACTIONS)).group_by(history.c.task_id).subquery())
    last_complete = (sa.select(history.c.task_id, sa.func.max(history.c.id).label("id"))
                     .where(history.c.action == COMPLETE_ACTION).group_by(history.c.task_id).subquery())
    completion = aliased(TaskHistory)
    completer, holder = aliased(User), aliased(User)
    area = aliased(AdminArea)
    # A lapsed claim reads as open, as on the task list.
    lapsed = sa.and_(TASK.status.in_(sorted(states.HELD_STATES)), TASK.claim_expires_at < now)
    status = sa.case((lapsed, states.OPEN), else_=TASK.status)
    completed = TASK.status.in_((states.DONE, states.VERIFIED))
    query = (sa.select(
        TASK.id, TASK.rule_id, TASK.sector, status.label("status"), TASK.created_at.label("opened_at"),
        Operation.code.label("operation"), TASK.operation_id,
        sa.func.coalesce(Site.adm3_pcode, Site.adm2_pcode, Site.adm1_pcode, area.pcode).label("place"),
        first_claim.c.at.label("claimed_at"),
        sa.case((completed, completion.at)).label("completed_at"),
        sa.func.coalesce(sa.case((completed, completer.organisation)), holder.organisation).label("organisation"),
        sa.and_(TASK.due_at < now, TASK.status.not_in(sorted({*states.FINAL_STATES, states.DONE}))).label("overdue"))
        .join(Operation, Operation.id == TASK.operation_id)
        .outerjoin(Site, Site.id == TASK.site_id)
        .outerjoin(area, area.id == TASK.admin_area_id)
        .outerjoin(first_claim, first_claim.c.task_id == TASK.id)
        .outerjoin(last_complete, last_complete.c.task_id == TASK.id)
        .outerjoin(completion, completion.id == last_complete.c.id)
        .outerjoin(completer, completer.id == completion.actor_user_id)
        .outerjoin(holder, holder.id == TASK.claimed_by_user_id)
        .where(TASK.operation_id.in_(list(operation_ids))))
    if admin_level_only:
        query = query.where(partner_task_condition(admin_level_only))
    if pcode:
        query = query.where(sa.or_(Site.adm1_pcode == pcode, Site.adm2_pcode == pcode, Site.adm3_pcode == pcode,
                                   area.pcode == pcode))
    return query.subquery("four_w_tasks")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _what_and_where(rules, index: AreaIndex, rule_id: str, sector: str, place: str | None, lang: str) -> dict:
    rule = rules.rule(rule_id)
    toc_area = rule.toc_area if rule else None
    chain = index.chain(place)
    sector_name = rules.sectors.get(sector)
    return {"sector_label": sector_name.get(lang) if sector_name else sector,
            "toc_area": toc_area, "toc_label": toc_label(toc_area, lang), "adm1_pcode": chain.get(1),
            "adm2_pcode": chain.get(2), "pcode": place, "area_name": index.name(place, lang)}


def task_rows(session: Session, operation_ids: Sequence[int], *, now: datetime, lang: str = "en",
              pcode: str | None = None) -> Iterator[dict]:
    """One row per task of the operations (for callers who see them at site level)."""
    if not operation_ids:
        return
    rules, _ = catalogues()
    index = AreaIndex.load(session, operation_ids)
    tasks = _task_columns(operation_ids, now=now, admin_level_only=(), pcode=pcode)
    query = sa.select(tasks).order_by(tasks.c.operation_id, tasks.c.id)
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        yield {"id": row.id, "operation": row.operation, "organisation": row.organisation, "rule_id": row.rule_id,
               "sector": row.sector, **_what_and_where(rules, index, row.rule_id, row.sector, row.place, lang),
               "status": row.status, "opened_at": _iso(row.opened_at), "claimed_at": _iso(row.claimed_at),
               "completed_at": _iso(row.completed_at), "overdue": bool(row.overdue)}


def aggregate(session: Session, operation_ids: Sequence[int], *, now: datetime, lang: str = "en",
              admin_level_only: Sequence[int] = (), pcode: str | None = None, by_admin1: bool = False) -> list[dict]:
    """Counts of opened, claimed, completed and overdue tasks per who/what/where group;
    `by_admin1`: where is the admin 1 area (the dashboard), else the task's own area."""
    if not operation_ids:
        return []
    rules, _ = catalogues()
    index = AreaIndex.load(session, operation_ids)
    tasks = _task_columns(operation_ids, now=now, admin_level_only=admin_level_only, pcode=pcode)
    keys = (tasks.c.operation, tasks.c.organisation, tasks.c.rule_id, tasks.c.sector, tasks.c.place)
    query = sa.select(*keys, sa.func.count(), sa.func.count(tasks.c.claimed_at), sa.func.count(tasks.c.completed_at),
                      sa.func.sum(sa.case((tasks.c.overdue, 1), else_=0))).group_by(*keys)
    groups: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(COUNT_KEYS, 0))
    for operation, organisation, rule_id, sector, place, opened, claimed, completed, overdue in session.execute(query):
        where = _what_and_where(rules, index, rule_id, sector, place, lang)
        if by_admin1:
            where.update(pcode=where["adm1_pcode"], adm2_pcode=None, area_name=index.name(where["adm1_pcode"], lang))
        key = {"operation": operation, "organisation": organisation, "sector": sector, **where}
        cell = groups[tuple(key[k] for k in GROUP_KEYS)]
        for name, value in zip(COUNT_KEYS, (opened, claimed, completed, overdue)):
            cell[name] += int(value or 0)
    result = [{**dict(zip(GROUP_KEYS, key)), **cell} for key, cell in groups.items()]
    # Who does something first; tasks nobody has taken after them.
    return sorted(result, key=lambda r: (r["organisation"] is None, *(str(r[k] or "") for k in GROUP_KEYS)))


def for_partners(rows: Iterable[Mapping]) -> list[dict]:
    """Aggregate rows with counts of 1–2 shown as "<3" (no total is published beside them)."""
    return [{**row, **{key: counts.small_count(row[key]) for key in COUNT_KEYS}} for row in rows]


def four_w(session: Session, principal: Principal, operation_ids: Sequence[int], *, now: datetime,
           lang: str = "en", pcode: str | None = None, by_admin1: bool = False) -> tuple[str, Iterable[dict]]:
    """("tasks", one row per task) when the caller sees every operation asked at site level
    (and wants rows, not the admin 1 table); else ("aggregate", rows per group), with small
    counts suppressed for the operations the caller sees at admin level only."""
    site_level, admin_level = split_by_audience(principal, operation_ids)
    if not admin_level and not by_admin1:
        return "tasks", task_rows(session, site_level, now=now, lang=lang, pcode=pcode)
    exact = aggregate(session, site_level, now=now, lang=lang, pcode=pcode, by_admin1=by_admin1)
    partner = for_partners(aggregate(session, admin_level, now=now, lang=lang, pcode=pcode, by_admin1=by_admin1,
                                     admin_level_only=admin_level))
    return "aggregate", exact + partner
