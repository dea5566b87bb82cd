"""The 4W of mitigation work — who (the organisation of the person who holds or completed
the task), what (rule, sector, theory-of-change area), where (admin area), when (opened,
claimed, completed, overdue) — for the dashboard table and the 4W export.

Experts and above get one row per task of their operations. Partners (viewers) get admin-level
aggregates only, built from the tasks their projection shows them (area tasks where the area's
phase is shown: crisis_ct.tasks.queries.partner_task_condition) with counts of 1–2 shown as
"<3" (crisis_ct.projection.counts)."""
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
GROUP_KEYS = ("operation", "organisation", "sector", "toc_area", "toc_label", "adm1_pcode", "pcode", "area_name")
COUNT_KEYS = ("opened", "claimed", "completed", "overdue")


def task_rows(session: Session, operation_ids: Sequence[int], *, now: datetime, lang: str = "en",
              admin_level_only: Sequence[int] = (), pcode: str | None = None) -> Iterator[dict]:
    """One row per task of the operations (for `admin_level_only` operations only the tasks
    partners see); callers decide who gets rows and who aggregates."""
    if not operation_ids:
        return
    rules, _ = catalogues()
    index = AreaIndex.load(session, operation_ids)
    history = TaskHistory.__table__
    first_claim = (sa.select(history.c.task_id, sa.func.min(history.c.at).label("at"))
                   .where(history.c.action.in_(CLAIM_ACTIONS)).group_by(history.c.task_id).subquery())
    last_complete = (sa.select(history.c.task_id, sa.func.max(history.c.id).label("id"))
                     .where(history.c.action == COMPLETE_ACTION).group_by(history.c.task_id).subquery())
    completion = aliased(TaskHistory)
    completer, holder = aliased(User), aliased(User)
    area = aliased(AdminArea)
    query = (sa.select(TASK.id, TASK.rule_id, TASK.sector, TASK.status, TASK.created_at, TASK.due_at,
                       TASK.claim_expires_at, Operation.code.label("operation"), Site.adm3_pcode, Site.adm2_pcode,
                       Site.adm1_pcode, area.pcode.label("area_pcode"), first_claim.c.at.label("claimed_at"),
                       completion.at.label("completed_at"), completer.organisation.label("completer_org"),
                       holder.organisation.label("holder_org"))
             .join(Operation, Operation.id == TASK.operation_id)
             .outerjoin(Site, Site.id == TASK.site_id)
             .outerjoin(area, area.id == TASK.admin_area_id)
             .outerjoin(first_claim, first_claim.c.task_id == TASK.id)
             .outerjoin(last_complete, last_complete.c.task_id == TASK.id)
             .outerjoin(completion, completion.id == last_complete.c.id)
             .outerjoin(completer, completer.id == completion.actor_user_id)
             .outerjoin(holder, holder.id == TASK.claimed_by_user_id)
             .where(TASK.operation_id.in_(list(operation_ids)))
             .order_by(TASK.operation_id, TASK.id))
    if admin_level_only:
        query = query.where(partner_task_condition(admin_level_only))
    if pcode:
        query = query.where(sa.or_(Site.adm1_pcode == pcode, Site.adm2_pcode == pcode, Site.adm3_pcode == pcode,
                                   area.pcode == pcode))
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        place = row.adm3_pcode or row.adm2_pcode or row.adm1_pcode or row.area_pcode
        chain = index.chain(place)
        status = row.status
        if status in states.HELD_STATES and row.claim_expires_at is not None and row.claim_expires_at < now:
            status = states.OPEN  # a lapsed claim, as the task list shows it
        completed = status in (states.DONE, states.VERIFIED)
        rule = rules.rule(row.rule_id)
        toc_area = rule.toc_area if rule else None
        yield {
            "id": row.id, "operation": row.operation,
            "organisation": (row.completer_org if completed else None) or row.holder_org,
            "rule_id": row.rule_id, "sector": row.sector, "toc_area": toc_area, "toc_label": toc_label(toc_area, lang),
            "adm1_pcode": chain.get(1), "adm2_pcode": chain.get(2), "pcode": place,
            "area_name": index.name(place, lang), "status": status,
            "opened_at": _iso(row.created_at), "claimed_at": _iso(row.claimed_at),
            "completed_at": _iso(row.completed_at) if completed else None,
            "overdue": row.due_at < now and status not in (*states.FINAL_STATES, states.DONE),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def aggregate(rows: Iterable[Mapping], *, by_admin1: bool = False) -> list[dict]:
    """Counts of opened, claimed, completed and overdue tasks per who/what/where group;
    `by_admin1`: where is the admin 1 area (the dashboard), else the task's own area."""
    groups: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(COUNT_KEYS, 0))
    for row in rows:
        key = {**{k: row.get(k) for k in GROUP_KEYS}}
        if by_admin1:
            key["pcode"], key["area_name"] = row.get("adm1_pcode"), None
        cell = groups[tuple(key[k] for k in GROUP_KEYS)]
        cell["opened"] += 1
        cell["claimed"] += row.get("claimed_at") is not None
        cell["completed"] += row.get("completed_at") is not None
        cell["overdue"] += bool(row.get("overdue"))
    result = [{**dict(zip(GROUP_KEYS, key)), **cell} for key, cell in groups.items()]
    return sorted(result, key=lambda r: tuple(str(r[k] or "") for k in GROUP_KEYS))


def for_partners(rows: Iterable[Mapping]) -> list[dict]:
    """Aggregate rows with counts of 1–2 shown as "<3" (no total is published beside them)."""
    return [{**row, **{key: counts.small_count(row[key]) for key in COUNT_KEYS}} for row in rows]


def four_w(session: Session, principal: Principal, operation_ids: Sequence[int], *, now: datetime,
           lang: str = "en", pcode: str | None = None, by_admin1: bool = False) -> tuple[str, Iterable[dict]]:
    """("tasks", one row per task) when the caller sees every operation asked at site level;
    else ("aggregate", rows per group), suppressed for the operations seen at admin level."""
    site_level, admin_level = split_by_audience(principal, operation_ids)
    if not admin_level:
        rows = task_rows(session, site_level, now=now, lang=lang, pcode=pcode)
        return ("aggregate", aggregate(rows, by_admin1=True)) if by_admin1 else ("tasks", rows)
    exact = aggregate(task_rows(session, site_level, now=now, lang=lang, pcode=pcode), by_admin1=by_admin1)
    partner = for_partners(aggregate(task_rows(session, admin_level, now=now, lang=lang, pcode=pcode,
                                               admin_level_only=admin_level), by_admin1=by_admin1))
    return "aggregate", exact + partner
