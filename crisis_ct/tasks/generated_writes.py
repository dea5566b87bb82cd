"""The task updates and history of one run of task generation, collected from both of its
planners (a place's own tasks, crisis_ct.tasks.service; area tasks, crisis_ct.tasks.area_service)
and written at its end: each set of changed columns as one executemany, and every history
row and audit event in one go. A re-score of one site changes some of each; written by each
planner, the same shapes and the audit events went out twice."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.tasks import history
from crisis_ct.tasks.models import MitigationTask

_TASKS = MitigationTask.__table__


class GeneratedWrites:
    def __init__(self, now: datetime):
        self.now = now
        self.updates: dict[tuple[str, ...], list[dict]] = {}  # changed columns -> rows (b_id and values)
        self.history: list[dict] = []  # history.write_generated's rows
        self.created: list[tuple[tuple, int, str, str]] = []  # history.write_generated's `created`

    def update(self, task_id, values: dict) -> None:
        self.updates.setdefault(tuple(sorted(values)), []).append({"b_id": task_id, **values})

    def event(self, task_id, place: tuple, rule_id: str, action: str, from_status: str, to_status: str,
              details: dict) -> None:
        """A history row of the generator, at `place` (scope, place id, operation id, score id)."""
        self.history.append({
            "task_id": task_id, "at": self.now, "actor_user_id": None, "actor": history.GENERATOR.label,
            "action": action, "from_status": from_status, "to_status": to_status, "comment": None,
            "details": details, "_place": place, "_rule_id": rule_id})

    def write(self, session: Session) -> None:
        for columns, rows in self.updates.items():
            session.execute(_update_by_id(columns), rows)
        if self.history or self.created:
            history.write_generated(session, history.GENERATOR, self.history, at=self.now, created=self.created)


@lru_cache(maxsize=64)
def _update_by_id(columns: tuple[str, ...]) -> sa.Update:
    # Built once per shape: a re-score of one site runs a few of them.
    return sa.update(_TASKS).where(_TASKS.c.id == sa.bindparam("b_id")).values(
        {name: sa.bindparam(name) for name in columns})
