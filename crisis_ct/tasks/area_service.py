"""Area tasks against the database: the site hits of rules with `task_per: admN`, from a batch
of site scorings, become one task per (rule, admin area) with its list of sites
(`mitigation_task_sites`), planned by crisis_ct.tasks.area_tasks.

Cost grows with the batch, not with the area: a batch reads its own sites' list rows, the
tasks of the areas it touches, and counts the rows of the tasks it changed, so a re-score of
one site in an area of 800 sites touches a handful of rows.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.tasks import history, rule_texts, states
from crisis_ct.tasks.area_tasks import NO_SITES_LEFT, AreaTaskPlan, SiteHit, closing_action, plan_area_task
from crisis_ct.tasks.catalogue import MitigationCatalogue, MitigationRule
from crisis_ct.tasks.generation import ExistingTask
from crisis_ct.tasks.models import MitigationTask, TaskSite, expertise_column_value, place_key

GENERATOR = history.GENERATOR
_TASKS = MitigationTask.__table__
_SITES = TaskSite.__table__
_CHUNK = 1000
_PCODE_COLUMNS = (Site.adm1_pcode, Site.adm2_pcode, Site.adm3_pcode)


def site_areas(session: Session, site_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    """site id -> {admin level: admin area id} of the areas its P-codes name."""
    wanted = sorted(set(site_ids))
    found: dict[int, dict[int, int]] = defaultdict(dict)
    # One equality join per P-code column, each served by the (operation_id, pcode) key: a
    # single join on `pcode IN (adm1, adm2, adm3)` compared every site with every area (0.5 s
    # per 1,000 sites at 3,000 areas, growing with the world: the 100k re-score's worst part).
    areas = [aliased(AdminArea) for _ in _PCODE_COLUMNS]
    query = sa.select(Site.id, *(column for area in areas for column in (area.level, area.id)))
    for area, pcode in zip(areas, _PCODE_COLUMNS):
        query = query.outerjoin(area, sa.and_(area.operation_id == Site.operation_id, area.pcode == pcode))
    for start in range(0, len(wanted), _CHUNK):
        for site_id, *levels_and_ids in session.execute(query.where(Site.id.in_(wanted[start:start + _CHUNK]))):
            for level, area_id in zip(levels_and_ids[::2], levels_and_ids[1::2]):
                if area_id is not None:
                    found[site_id][level] = area_id
    return found


def area_for(rule: MitigationRule, areas: dict[int, int]) -> int | None:
    """The area that gets the rule's task for a site: the one at the rule's level, else the
    nearest coarser one the site has (a site placed only down to admin 1 still gets its task)."""
    for level in range(rule.admin_level, 0, -1):
        if level in areas:
            return areas[level]
    return None


class AreaBatch:
    """The site hits of area rules from one batch of site scorings; `apply` writes them."""

    def __init__(self, catalogue: MitigationCatalogue, now: datetime):
        self.catalogue = catalogue
        self.now = now
        self.scored: dict[int, int] = {}  # site id scored in this batch -> its operation id
        self.hits: dict[tuple[int, str], dict[int, SiteHit]] = defaultdict(dict)

    def scored_site(self, site_id: int, operation_id: int) -> None:
        self.scored[site_id] = operation_id

    def hit(self, area_id: int, rule_id: str, hit: SiteHit) -> None:
        self.hits[(area_id, rule_id)][hit.site_id] = hit

    def apply(self, session: Session) -> list[AreaTaskPlan]:
        if not self.scored:
            return []
        area_rules = sorted(rule.id for rule in self.catalogue.rules if rule.admin_level is not None)
        listed = _listed(session, self.scored)  # (area, rule) -> listed sites scored now
        keys = set(self.hits) | set(listed)
        tasks = _area_tasks(session, {area for area, _ in keys}, area_rules)
        plans = []
        for area_id, rule_id in sorted(keys):
            plan = plan_area_task(area_id, rule_id, self.hits.get((area_id, rule_id), {}),
                                  listed.get((area_id, rule_id), ()), tasks.get((area_id, rule_id), ()),
                                  now=self.now, catalogue=self.catalogue)
            if plan is not None:
                plans.append(plan)
        if plans:
            _Writer(session, self.catalogue, self.now, self._operations()).write(plans)
        return plans

    def _operations(self) -> dict[int, int]:
        """area id -> operation id, from the sites that triggered a task there (a task is
        created only where a site triggered it)."""
        operations: dict[int, int] = {}
        for (area_id, _), hits in self.hits.items():
            for site_id in hits:
                operations.setdefault(area_id, self.scored[site_id])
        return operations


def _listed(session: Session, scored: dict[int, int]) -> dict[tuple[int, str], list[int]]:
    found: dict[tuple[int, str], list[int]] = defaultdict(list)
    site_ids = sorted(scored)
    for start in range(0, len(site_ids), _CHUNK):
        rows = session.execute(
            sa.select(_SITES.c.site_id, _TASKS.c.admin_area_id, _TASKS.c.rule_id)
            .join(_TASKS, _TASKS.c.id == _SITES.c.task_id)
            .where(_SITES.c.site_id.in_(site_ids[start:start + _CHUNK]),
                   _TASKS.c.status.not_in(sorted(states.FINAL_STATES))))
        for site_id, area_id, rule_id in rows:
            found[(area_id, rule_id)].append(site_id)
    return found


def _area_tasks(session: Session, area_ids: set[int], rule_ids: list[str]) -> dict[tuple[int, str], list]:
    found: dict[tuple[int, str], list] = defaultdict(list)
    wanted = sorted(area_ids)
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            sa.select(_TASKS.c.id, _TASKS.c.admin_area_id, _TASKS.c.rule_id, _TASKS.c.status, _TASKS.c.priority,
                      _TASKS.c.assessment_date, _TASKS.c.due_at, _TASKS.c.closed_at, _TASKS.c.operation_id)
            .where(_TASKS.c.admin_area_id.in_(wanted[start:start + _CHUNK]), _TASKS.c.scope == "admin_area",
                   _TASKS.c.rule_id.in_(rule_ids)))
        for row in rows:
            found[(row.admin_area_id, row.rule_id)].append(
                ExistingTask(row.rule_id, row.status, row.priority, row.id, row.assessment_date, row.due_at,
                             row.closed_at))
    return found


class _Writer:
    def __init__(self, session: Session, catalogue: MitigationCatalogue, now: datetime,
                 operations: dict[int, int]):
        self.session, self.catalogue, self.now, self.operations = session, catalogue, now, operations
        self.history: list[dict] = []

    def write(self, plans: Sequence[AreaTaskPlan]) -> None:
        created = self._create([plan for plan in plans if plan.task_id is None])
        existing = [plan for plan in plans if plan.task_id is not None]
        self._list_rows(created, existing)
        self._update_tasks(existing)
        # A created task's count is its evidence already; only lists that changed need one.
        self._settle([plan.task_id for plan in existing if plan.add or plan.remove])
        if self.history or created:
            history.write_generated(self.session, GENERATOR, self.history, at=self.now, created=[
                (("admin_area", plan.area_id, self.operations[plan.area_id], None), task_id, plan.rule_id,
                 plan.priority) for task_id, plan in created])

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
            self.session.execute(
                sa.update(_SITES).where(_SITES.c.task_id == sa.bindparam("b_task"),
                                        _SITES.c.site_id == sa.bindparam("b_site"))
                .values({name: sa.bindparam(name) for name in
                         ("priority", "evidence", "assessment_date", "site_score_id", "updated_at")}), updates)
        removals = [{"b_task": plan.task_id, "b_site": site} for plan in existing for site in plan.remove]
        if removals:
            self.session.execute(sa.delete(_SITES).where(_SITES.c.task_id == sa.bindparam("b_task"),
                                                         _SITES.c.site_id == sa.bindparam("b_site")), removals)

    def _update_tasks(self, plans: Sequence[AreaTaskPlan]) -> None:
        current = {row.id: row for row in self._rows([plan.task_id for plan in plans])}
        updates: dict[tuple, list[dict]] = defaultdict(list)  # one executemany per shape
        for plan in plans:
            task = current[plan.task_id]
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
            updates[tuple(sorted(values))].append({"b_id": plan.task_id, **values})
        self._execute_updates(updates)

    def _execute_updates(self, updates: dict[tuple, list[dict]]) -> None:
        for columns, rows in updates.items():
            self.session.execute(sa.update(_TASKS).where(_TASKS.c.id == sa.bindparam("b_id")).values(
                {name: sa.bindparam(name) for name in columns}), rows)

    def _settle(self, task_ids: Sequence) -> None:
        """Each changed task's site count in its evidence; a task left without sites is closed
        as the state machine allows (area_tasks.closing_action)."""
        if not task_ids:
            return
        counts = dict(self.session.execute(
            sa.select(_SITES.c.task_id, sa.func.count()).where(_SITES.c.task_id.in_(list(task_ids)))
            .group_by(_SITES.c.task_id)).all())
        updates: dict[tuple, list[dict]] = defaultdict(list)
        empty = {row.id: row for row in self._rows([task_id for task_id in task_ids if not counts.get(task_id)])}
        for task_id in task_ids:
            values: dict = {"evidence": sites_evidence(counts.get(task_id, 0))}
            task = empty.get(task_id)
            if task is not None:
                action = closing_action(task.status)
                if action == "cancel":
                    values.update(status=states.CANCELLED, closed_at=self.now)
                    self._event(task, "cancelled", {"reason": NO_SITES_LEFT}, to_status=states.CANCELLED)
                elif action == "review" and not (task.needs_review and task.review_reason == NO_SITES_LEFT):
                    values.update(needs_review=True, review_reason=NO_SITES_LEFT)
                    self._event(task, "flagged_for_review", {"reason": NO_SITES_LEFT})
            updates[tuple(sorted(values))].append({"b_id": task_id, **values})
        self._execute_updates(updates)

    def _rows(self, task_ids: Sequence) -> list:
        if not task_ids:
            return []
        return self.session.execute(
            sa.select(_TASKS.c.id, _TASKS.c.rule_id, _TASKS.c.status, _TASKS.c.priority, _TASKS.c.admin_area_id,
                      _TASKS.c.operation_id, _TASKS.c.needs_review, _TASKS.c.review_reason)
            .where(_TASKS.c.id.in_(list(task_ids)))).all()

    def _event(self, task, action: str, details: dict, to_status: str | None = None) -> None:
        self.history.append({
            "task_id": task.id, "at": self.now, "actor_user_id": None, "actor": GENERATOR.label, "action": action,
            "from_status": task.status, "to_status": to_status or task.status, "comment": None,
            "details": details, "_place": ("admin_area", task.admin_area_id, task.operation_id, None),
            "_rule_id": task.rule_id})


def sites_evidence(count: int) -> list[dict]:
    """An area task's own evidence: how many sites it lists (each site's evidence is on its row)."""
    return [{"kind": "sites", "id": "triggering_sites", "value": count}]


def evidence_json(evidence) -> list[dict]:
    return [{"kind": item.kind, "id": item.id, "value": list(item.value) if isinstance(item.value, tuple)
             else item.value} for item in evidence]
