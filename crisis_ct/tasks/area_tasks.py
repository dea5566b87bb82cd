"""Plan area tasks: rules with `task_per: admN` (forms/mitigation_rules.yaml) are actions one
team delivers across many sites (a campaign, legal-aid sessions, advocacy, a training), so
they make ONE task per admin area that lists the sites that triggered it.

Pure planning, like crisis_ct.tasks.generation, and with its principles:
- one open task per (rule, area); a site that triggers the rule joins its list, a site whose
  re-score no longer triggers it (or that now lies in another area) leaves the list;
- the task's priority is the most urgent of its sites' and only ever goes up;
- a site whose evidence a verified or cancelled task of the rule there already answered does
  not join (generation.closed_covers): only newer evidence re-opens the work;
- when the last site leaves, the caller closes the task as the state machine allows (see
  crisis_ct.tasks.area_service): an open task is cancelled, a held one is flagged for review
  (someone is working on it), a done one awaits its verifier.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from crisis_ct.tasks import states
from crisis_ct.tasks.catalogue import MitigationCatalogue
from crisis_ct.tasks.generation import ExistingTask, closed_covers, due_at
from crisis_ct.tasks.triggers import Evidence

NO_SITES_LEFT = "no_sites_left"


@dataclass(frozen=True)
class SiteHit:
    """The rule triggered at one site of the area."""
    site_id: int
    priority: str
    evidence: tuple[Evidence, ...]
    assessment_date: date | None
    score_id: int | None


@dataclass(frozen=True)
class AreaTaskPlan:
    area_id: int
    rule_id: str
    task_id: object | None  # None: create a task for `add`
    add: tuple[SiteHit, ...] = ()
    refresh: tuple[SiteHit, ...] = ()
    remove: tuple[int, ...] = ()  # site ids
    priority: str | None = None  # the new priority when created or escalated, else None
    due_at: datetime | None = None  # with priority
    assessment_date: date | None = None  # the newest evidence, when it moved forward

    @property
    def is_empty(self) -> bool:
        return self.task_id is not None and not (self.add or self.refresh or self.remove or self.priority)


def plan_area_task(area_id: int, rule_id: str, hits: Mapping[int, SiteHit], listed: Sequence[int],
                   tasks: Sequence[ExistingTask], *, now: datetime,
                   catalogue: MitigationCatalogue) -> AreaTaskPlan | None:
    """`hits`: the sites scored now where the rule triggers and whose area this is, by site id;
    `listed`: the sites scored now that the open task lists (whatever their area is now);
    `tasks`: every task of the rule in the area, open or closed. Sites not scored now are
    left as they are."""
    current = _current(tasks, catalogue)
    closed = [task for task in tasks if not states.is_open(task.status)]
    listed_set = set(listed)
    refresh = tuple(hits[site] for site in sorted(hits) if current is not None and site in listed_set)
    add = tuple(hit for site, hit in sorted(hits.items())
                if (current is None or site not in listed_set)
                and not any(closed_covers(task, hit.assessment_date) for task in closed))
    remove = tuple(sorted(site for site in listed_set if site not in hits)) if current is not None else ()
    if current is None:
        if not add:
            return None
        priority = _most_urgent(catalogue, [hit.priority for hit in add])
        return AreaTaskPlan(area_id, rule_id, None, add=add, priority=priority,
                            due_at=due_at(catalogue, priority, now), assessment_date=_newest(add))
    plan = AreaTaskPlan(area_id, rule_id, current.task_id, add=add, refresh=refresh, remove=remove)
    wanted = _most_urgent(catalogue, [hit.priority for hit in add + refresh] or [current.priority])
    newest = _newest(add + refresh)
    if newest is not None and (current.assessment_date is None or newest > current.assessment_date):
        plan = _with(plan, assessment_date=newest)
    if current.priority in catalogue.priorities and catalogue.more_urgent(wanted, current.priority):
        due = due_at(catalogue, wanted, now)
        if current.due_at is not None and current.due_at < due:
            due = current.due_at
        plan = _with(plan, priority=wanted, due_at=due)
    return None if plan.is_empty else plan


def _with(plan: AreaTaskPlan, **changes) -> AreaTaskPlan:
    return AreaTaskPlan(**{**plan.__dict__, **changes})


def _current(tasks: Sequence[ExistingTask], catalogue: MitigationCatalogue) -> ExistingTask | None:
    open_tasks = [task for task in tasks if states.is_open(task.status)]
    if not open_tasks:
        return None
    # The unique index allows one; should there be more, the most urgent is the one to keep.
    return min(open_tasks, key=lambda task: catalogue.priority_rank(task.priority)
               if task.priority in catalogue.priorities else len(catalogue.priorities))


def _most_urgent(catalogue: MitigationCatalogue, priorities: Sequence[str]) -> str:
    return min(priorities, key=catalogue.priority_rank)


def _newest(hits: Sequence[SiteHit]) -> date | None:
    dates = [hit.assessment_date for hit in hits if hit.assessment_date is not None]
    return max(dates) if dates else None


def closing_action(status: str) -> str | None:
    """What becomes of an area task whose last site left: 'cancel' when nobody holds it,
    'review' when someone is working on it, None when the work is done and awaits its verifier."""
    if status == states.OPEN:
        return "cancel"
    if status in states.HELD_STATES:
        return "review"
    return None
