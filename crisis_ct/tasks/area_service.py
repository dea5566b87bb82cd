"""Area tasks against the database: the site hits of rules with `task_per: admN`, from a batch
of site scorings, become one task per (rule, admin area) with its list of sites
(`mitigation_task_sites`), planned by crisis_ct.tasks.area_tasks.

Cost grows with the batch, not with the area: a batch reads its own sites' list rows and the
tasks of its sites' areas (crisis_ct.tasks.batch_tasks, with the places' own tasks), and
counts the rows of the tasks it changed, so a re-score of one site in an area of 800 sites
touches a handful of rows.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.site_areas import sites_with_areas
from crisis_ct.tasks import history, rule_texts, states
from crisis_ct.tasks.area_tasks import NO_SITES_LEFT, AreaTaskPlan, SiteHit, closing_action, plan_area_task
from crisis_ct.tasks.batch_tasks import BatchTasks
from crisis_ct.tasks.catalogue import MitigationCatalogue, MitigationRule
from crisis_ct.tasks.generated_writes import GeneratedWrites
from crisis_ct.tasks.generation import ExistingTask
from crisis_ct.tasks.models import MitigationTask, TaskSite, expertise_column_value, place_key

_TASKS = MitigationTask.__table__
_SITES = TaskSite.__table__
_CHUNK = 1000


def site_areas(session: Session, site_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    """site id -> {admin level: admin area id} of the areas its P-codes name (one equality
    join per P-code column: crisis_ct.geography.site_areas)."""
    wanted = sorted(set(site_ids))
    return {site.id: site.areas for start in range(0, len(wanted), _CHUNK)
            for site in sites_with_areas(session, wanted[start:start + _CHUNK])}


def area_for(rule: MitigationRule, areas: dict[int, int]) -> int | None:
    """The area that gets the rule's task for a site: the one at the rule's level, else the
    nearest coarser one the site has (a site placed only down to admin 1 still gets its task)."""
    for level in range(rule.admin_level, 0, -1):
        if level in areas:
            return areas[level]
    return None


class AreaBatch:
    """The site hits of area rules from one batch of site scorings; `apply` writes them."""

    def __init__(self, catalogue: MitigationCatalogue, now: datetime, known: BatchTasks):
        self.catalogue = catalogue
        self.now = now
        self.known = known  # the batch's area tasks and list rows, read before planning
        self.scored: dict[int, int] = {}  # site id scored in this batch -> its operation id
        self.hits: dict[tuple[int, str], dict[int, SiteHit]] = defaultdict(dict)

    def scored_site(self, site_id: int, operation_id: int) -> None:
        self.scored[site_id] = operation_id

    def hit(self, area_id: int, rule_id: str, hit: SiteHit) -> None:
        self.hits[(area_id, rule_id)][hit.site_id] = hit

    def apply(self, session: Session, written: GeneratedWrites) -> list[AreaTaskPlan]:
        """Create the area tasks and write the list rows the plans need now; the updates of
        existing tasks and the history go to `written`."""
        if not self.scored:
            return []
        listed = self.known.listed  # (area, rule) -> listed sites scored now
        plans = []
        for key in sorted(set(self.hits) | set(listed)):
            tasks = [ExistingTask(row.rule_id, row.status, row.priority, row.id, row.assessment_date, row.due_at,
                                  row.closed_at) for row in self.known.area.get(key, ())]
            plan = plan_area_task(*key, self.hits.get(key, {}), listed.get(key, ()), tasks,
                                  now=self.now, catalogue=self.catalogue)
            if plan is not None:
                plans.append(plan)
        if plans:
            _Writer(session, self.catalogue, self.now, self._operations(), self.known.area_rows, written).write(plans)
        return plans

    def _operations(self) -> dict[int, int]:
        """area id -> operation id, from the sites that triggered a task there (a task is
        created only where a site triggered it)."""
        operations: dict[int, int] = {}
        for (area_id, _), hits in self.hits.items():
            for site_id in hits:
                operations.setdefault(area_id, self.scored[site_id])
        return operations


class _Writer:
    def __init__(self, session: Session, catalogue: MitigationCatalogue, now: datetime,
                 operations: dict[int, int], tasks: Mapping[int, object], written: GeneratedWrites):
        self.session, self.catalogue, self.now, self.operations = session, catalogue, now, operations
        self.tasks = tasks  # the existing tasks planned for, by id, as read before planning
        self.written = written

    def write(self, plans: Sequence[AreaTaskPlan]) -> None:
        created = self._create([plan for plan in plans if plan.task_id is None])
        existing = [plan for plan in plans if plan.task_id is not None]
        self._list_rows(created, existing)
        values = self._task_values(existing)
        # A created task's count is its evidence already; only lists that changed need one.
        self._settle(values, [plan.task_id for plan in existing if plan.add or plan.remove])
        # Each task written once, with what the plan and its new count change.
        for task_id, changes in values.items():
            self.written.update(task_id, changes)
        self.written.created.extend(
            (("admin_area", plan.area_id, self.operations[plan.area_id], None), task_id, plan.rule_id, plan.priority)
            for task_id, plan in created)

    def _create(self, plans: Sequence[AreaTaskPlan]) -> list[tuple[int, AreaTaskPlan]]:
        if not plans:
            return []
        text_ids = rule_texts.rule_text_ids(self.session, self.catalogue, {plan.rule_id for plan in plans})
        rows = []
        for plan in plans:
            rule = self.catalogue.rule(plan.rule_id)
            rows.append({
                "operation_id": self.operations[plan.area_id], "rule_id": rule.id, "scope": "admin_area",
                "place_key": place_key("admin_area", plan.area_id), "site_id": None,
                "admin_area_id": plan.area_id, "sector": rule.sector, "rule_text_id": text_ids[rule.id],
                "expertise_tags": expertise_column_value(rule.expertise), "priority": plan.priority,
                "status": states.OPEN, "due_at": plan.due_at, "needs_review": False,
                "evidence": sites_evidence(len(plan.add)), "assessment_date": plan.assessment_date,
                "site_score_id": None, "area_score_id": None, "created_at": self.now, "updated_at": self.now})
        ids = history.insert_rows(self.session, _TASKS, rows, with_ids=True)
        return list(zip(ids, plans))

    def _list_rows(self, created, existing: Sequence[AreaTaskPlan]) -> None:
        def row(task_id, hit: SiteHit) -> dict:
            return {"task_id": task_id, "site_id": hit.site_id, "priority": hit.priority,
                    "evidence": evidence_json(hit.evidence), "assessment_date": hit.assessment_date,
                    "site_score_id": hit.score_id, "added_at": self.now, "updated_at": self.now}
        inserts = [row(task_id, hit) for task_id, plan in created for hit in plan.add]
        inserts += [row(plan.task_id, hit) for plan in existing for hit in plan.add]
        history.insert_rows(self.session, _SITES, inserts)
        updates = [{"b_task": plan.task_id, "b_site": hit.site_id, "priority": hit.priority,
                    "evidence": evidence_json(hit.evidence), "assessment_date": hit.assessment_date,
                    "site_score_id": hit.score_id, "updated_at": self.now}
                   for plan in existing for hit in plan.refresh]
        if updates:
            self.session.execute(_refresh_list_row(), updates)
        removals = [{"b_task": plan.task_id, "b_site": site} for plan in existing for site in plan.remove]
        if removals:
            self.session.execute(_remove_list_row(), removals)

    def _task_values(self, plans: Sequence[AreaTaskPlan]) -> dict[object, dict]:
        """task id -> the columns its plan changes."""
        changes: dict[object, dict] = {}
        for plan in plans:
            task = self.tasks[plan.task_id]
            values: dict = {"updated_at": self.now}
            if plan.add or plan.refresh:
                values.update(needs_review=False, review_reason=None)
            if plan.assessment_date is not None:
                values["assessment_date"] = plan.assessment_date
            if plan.priority is not None:
                values.update(priority=plan.priority, due_at=plan.due_at)
                self._event(task, "escalated", {"from_priority": task.priority, "to_priority": plan.priority})
            if plan.add or plan.remove:
                self._event(task, "sites_changed", {"added": [hit.site_id for hit in plan.add],
                                                    "removed": list(plan.remove)})
            changes[plan.task_id] = values
        return changes

    def _settle(self, changes: dict[object, dict], task_ids: Sequence) -> None:
        """Each of these tasks' site count in its evidence (counted after the list changes);
        a task left without sites is closed as the state machine allows
        (area_tasks.closing_action). Into `changes`."""
        if not task_ids:
            return
        counts = dict(self.session.execute(
            sa.select(_SITES.c.task_id, sa.func.count()).where(_SITES.c.task_id.in_(list(task_ids)))
            .group_by(_SITES.c.task_id)).all())
        for task_id in task_ids:
            values = changes[task_id]
            values["evidence"] = sites_evidence(counts.get(task_id, 0))
            if not counts.get(task_id):
                # Its status and review flag as read before planning: the list changes
                # written since touch neither.
                task = self.tasks[task_id]
                action = closing_action(task.status)
                if action == "cancel":
                    values.update(status=states.CANCELLED, closed_at=self.now)
                    self._event(task, "cancelled", {"reason": NO_SITES_LEFT}, to_status=states.CANCELLED)
                elif action == "review" and not (task.needs_review and task.review_reason == NO_SITES_LEFT):
                    values.update(needs_review=True, review_reason=NO_SITES_LEFT)
                    self._event(task, "flagged_for_review", {"reason": NO_SITES_LEFT})

    def _event(self, task, action: str, details: dict, to_status: str | None = None) -> None:
        self.written.event(task.id, ("admin_area", task.admin_area_id, task.operation_id, None), task.rule_id,
                           action, task.status, to_status or task.status, details)


# Statements built once: a re-score of one site runs them.
def _list_row():
    return sa.and_(_SITES.c.task_id == sa.bindparam("b_task"), _SITES.c.site_id == sa.bindparam("b_site"))


@cache
def _refresh_list_row() -> sa.Update:
    columns = ("priority", "evidence", "assessment_date", "site_score_id", "updated_at")
    return sa.update(_SITES).where(_list_row()).values({name: sa.bindparam(name) for name in columns})


@cache
def _remove_list_row() -> sa.Delete:
    return sa.delete(_SITES).where(_list_row())


def sites_evidence(count: int) -> list[dict]:
    """An area task's own evidence: how many sites it lists (each site's evidence is on its row)."""
    return [{"kind": "sites", "id": "triggering_sites", "value": count}]


def evidence_json(evidence) -> list[dict]:
    return [{"kind": item.kind, "id": item.id, "value": list(item.value) if isinstance(item.value, tuple)
             else item.value} for item in evidence]
