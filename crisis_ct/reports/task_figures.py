"""Mitigation tasks of a scope counted by sector and by priority: open, claimed (held,
claimed or in progress), completed (done or verified) and overdue — counted as the task board
lists them (a lapsed claim is open again), and for partners only the tasks they may see
(crisis_ct.tasks.queries.partner_task_condition)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import Site
from crisis_ct.reports.scope import Scope
from crisis_ct.tasks import states
from crisis_ct.tasks.claims import TASKS, held_condition
from crisis_ct.tasks.queries import partner_task_condition

COLUMNS = ("open", "claimed", "completed", "overdue")
_COMPLETED = sorted({states.DONE, states.VERIFIED})
_NOT_DUE_ANY_MORE = sorted({*states.FINAL_STATES, states.DONE})


@dataclass(frozen=True)
class TaskFigures:
    """(row key, column) -> count, for rows by sector and rows by priority."""
    by_sector: dict[tuple[str, str], int]
    by_priority: dict[tuple[str, str], int]

    def sectors(self) -> list[str]:
        return sorted({key for key, _ in self.by_sector})


def _scope_condition(scope: Scope) -> sa.ColumnElement[bool]:
    condition = TASKS.c.operation_id == scope.operation_id
    if scope.area is None:
        return condition
    sites = sa.select(Site.id).where(scope.site_condition())
    return sa.and_(condition, sa.or_(TASKS.c.site_id.in_(sites), TASKS.c.admin_area_id.in_(scope.area_ids)))


def task_figures(session: Session, scope: Scope, now: datetime, *, partner_view: bool) -> TaskFigures:
    column = sa.case(
        (TASKS.c.status == states.OPEN, "open"),
        (sa.and_(TASKS.c.status.in_(sorted(states.HELD_STATES)), sa.not_(held_condition(now))), "open"),
        (TASKS.c.status.in_(sorted(states.HELD_STATES)), "claimed"),
        (TASKS.c.status.in_(_COMPLETED), "completed"),
        else_=None).label("column")
    overdue = sa.and_(TASKS.c.due_at < now, TASKS.c.status.not_in(_NOT_DUE_ANY_MORE)).label("overdue")
    where = _scope_condition(scope)
    if partner_view:
        where = sa.and_(where, partner_task_condition([scope.operation_id]))
    rows = session.execute(sa.select(TASKS.c.sector, TASKS.c.priority, column, overdue, sa.func.count())
                           .where(where).group_by(TASKS.c.sector, TASKS.c.priority, column, overdue))
    by_sector: Counter = Counter()
    by_priority: Counter = Counter()
    for sector, priority, state, is_overdue, count in rows:
        for name in ([state] if state else []) + (["overdue"] if is_overdue else []):
            by_sector[(sector, name)] += count
            by_priority[(priority, name)] += count
    return TaskFigures(dict(by_sector), dict(by_priority))
