"""Plan which mitigation tasks to create, escalate, refresh or flag for one site or admin
area, from the rules that trigger now and the tasks that already exist there.

Pure planning: the database layer applies the plan. Principles (shared/domain.md §2.6, §3):
- one open task per (rule, site/area): a re-trigger refreshes evidence, never duplicates;
- priority only ever goes up;
- when risk falls, open tasks are flagged for review, never closed automatically;
- a verified or cancelled task is re-opened (a new task of its rule at its place) only by
  evidence newer than its closing: an assessment dated after the day it was closed (and after
  the assessment it was based on). Re-scoring the same or older evidence never brings it back.

Area tasks (rules with `task_per: admN`, one task per admin area listing the sites that
triggered it) are planned in crisis_ct.tasks.area_tasks with the same principles.

"Open" means any status that is not final (verified, cancelled). `done` counts as open: the
work is reported but not yet verified, and the coordinator may still reject it back to open.
Creating a second task beside it would split one piece of work in two; instead the done task
gets the fresh evidence, which is exactly what its verifier needs to see.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from crisis_ct.tasks import states
from crisis_ct.tasks.catalogue import MitigationCatalogue
from crisis_ct.tasks.triggers import Evidence, TriggeredRule

NO_LONGER_TRIGGERED = "no_longer_triggered"
RULE_REMOVED = "rule_removed"
DUPLICATE_OPEN_TASK = "duplicate_open_task"
NOW_AN_AREA_TASK = "now_an_area_task"  # the rule became `task_per: admN`: its area task carries on
ALREADY_CLOSED = "already_closed_for_this_assessment"
OLDER_ASSESSMENT = "older_assessment"


@dataclass(frozen=True)
class ExistingTask:
    rule_id: str
    status: str
    priority: str
    task_id: object
    assessment_date: date | None = None  # the assessment the task's evidence comes from
    due_at: datetime | None = None
    closed_at: datetime | None = None  # when it was verified or cancelled


@dataclass(frozen=True)
class TaskToCreate:
    rule_id: str
    priority: str
    due_at: datetime
    evidence: tuple[Evidence, ...]
    strength: int
    assessment_date: date | None


@dataclass(frozen=True)
class TaskToEscalate:
    task_id: object
    rule_id: str
    from_priority: str
    to_priority: str
    due_at: datetime  # never later than the task's current due date
    evidence: tuple[Evidence, ...]
    assessment_date: date | None


@dataclass(frozen=True)
class TaskToRefresh:
    task_id: object
    rule_id: str
    evidence: tuple[Evidence, ...]
    assessment_date: date | None


@dataclass(frozen=True)
class TaskToReview:
    task_id: object
    rule_id: str
    reason: str  # NO_LONGER_TRIGGERED | RULE_REMOVED | DUPLICATE_OPEN_TASK | NOW_AN_AREA_TASK


@dataclass(frozen=True)
class Skipped:
    rule_id: str
    task_id: object | None
    reason: str  # ALREADY_CLOSED | OLDER_ASSESSMENT


@dataclass(frozen=True)
class TaskPlan:
    """Each existing task appears in at most one of escalate / refresh / review."""
    create: tuple[TaskToCreate, ...] = ()
    escalate: tuple[TaskToEscalate, ...] = ()
    refresh: tuple[TaskToRefresh, ...] = ()
    review: tuple[TaskToReview, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.create or self.escalate or self.refresh or self.review)


def due_at(catalogue: MitigationCatalogue, priority: str, now: datetime) -> datetime:
    return now + timedelta(hours=catalogue.priorities[priority].response_hours)


def plan_tasks(triggered: Sequence[TriggeredRule], open_tasks: Sequence[ExistingTask], *,
               now: datetime, assessment_date: date | None,
               catalogue: MitigationCatalogue) -> TaskPlan:
    """`triggered`: rules_triggered(...) for one site or area; `open_tasks`: the tasks that
    exist for that same site or area (closed ones may be included: they stop a task closed
    for this very assessment from being created again)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime (UTC)")
    by_rule = _strongest_per_rule(triggered, catalogue)
    current, duplicates = _current_open_task_per_rule(open_tasks, catalogue)
    closed = [task for task in open_tasks if not states.is_open(task.status)]

    create, escalate, refresh, skipped = [], [], [], []
    for rule_id, hit in by_rule.items():
        task = current.get(rule_id)
        if task is None:
            blocker = _closed_for_this_assessment(closed, rule_id, assessment_date)
            if blocker is not None:
                skipped.append(Skipped(rule_id, blocker.task_id, ALREADY_CLOSED))
                continue
            create.append(TaskToCreate(rule_id, hit.priority, due_at(catalogue, hit.priority, now),
                                       hit.evidence, hit.strength, assessment_date))
        elif _is_older(assessment_date, task):
            skipped.append(Skipped(rule_id, task.task_id, OLDER_ASSESSMENT))
        elif _known(catalogue, task.priority) and catalogue.more_urgent(hit.priority, task.priority):
            escalate.append(_escalation(task, hit, now, assessment_date, catalogue))
        else:
            refresh.append(TaskToRefresh(task.task_id, rule_id, hit.evidence, assessment_date))

    review = [TaskToReview(task.task_id, task.rule_id, DUPLICATE_OPEN_TASK) for task in duplicates]
    for rule_id, task in current.items():
        if rule_id in by_rule or task.status == states.DONE:
            # A done task already awaits its verifier; a fall in risk after the work is the
            # expected outcome, not something to flag.
            continue
        if _is_older(assessment_date, task):
            skipped.append(Skipped(rule_id, task.task_id, OLDER_ASSESSMENT))
            continue
        rule = catalogue.rule(rule_id)
        reason = RULE_REMOVED if rule is None else NOW_AN_AREA_TASK if rule.admin_level is not None \
            else NO_LONGER_TRIGGERED
        review.append(TaskToReview(task.task_id, rule_id, reason))

    create.sort(key=lambda t: (catalogue.priority_rank(t.priority), -t.strength, catalogue.rule_order(t.rule_id)))
    return TaskPlan(tuple(create), tuple(escalate), tuple(refresh), tuple(review), tuple(skipped))


def _strongest_per_rule(triggered: Sequence[TriggeredRule],
                        catalogue: MitigationCatalogue) -> dict[str, TriggeredRule]:
    by_rule: dict[str, TriggeredRule] = {}
    for hit in triggered:
        seen = by_rule.get(hit.rule.id)
        if seen is None or catalogue.more_urgent(hit.priority, seen.priority):
            by_rule[hit.rule.id] = hit
    return by_rule


def _current_open_task_per_rule(tasks: Sequence[ExistingTask], catalogue: MitigationCatalogue):
    """The open task per rule; any further open task of the same rule is a duplicate (it should
    not exist, but if it does it is flagged, never merged or closed here)."""
    current: dict[str, ExistingTask] = {}
    duplicates: list[ExistingTask] = []
    for task in sorted((t for t in tasks if states.is_open(t.status)), key=lambda t: _urgency(catalogue, t)):
        if task.rule_id in current:
            duplicates.append(task)
        else:
            current[task.rule_id] = task
    return current, duplicates


def _urgency(catalogue: MitigationCatalogue, task: ExistingTask) -> int:
    # Keep the most urgent task as the current one; unknown priorities sort last.
    return catalogue.priority_rank(task.priority) if _known(catalogue, task.priority) else len(catalogue.priorities)


def _known(catalogue: MitigationCatalogue, priority: str) -> bool:
    return priority in catalogue.priorities


def _closed_for_this_assessment(closed: Sequence[ExistingTask], rule_id: str,
                                assessment_date: date | None) -> ExistingTask | None:
    """A verified or cancelled task of this rule that already answered evidence of this date."""
    for task in closed:
        if task.rule_id == rule_id and closed_covers(task, assessment_date):
            return task
    return None


def closed_covers(task: ExistingTask, assessment_date: date | None) -> bool:
    """Whether closed `task` answered evidence assessed on `assessment_date`: it did unless the
    evidence is newer than both the assessment the task was based on and the day it was closed
    (evidence of the closing day counts as seen by whoever closed it). Undated evidence is never
    newer than a known closing."""
    if assessment_date is None:
        return task.closed_at is not None
    if task.assessment_date is not None and task.assessment_date >= assessment_date:
        return True
    return task.closed_at is not None and task.closed_at.date() >= assessment_date


def _is_older(assessment_date: date | None, task: ExistingTask) -> bool:
    # Re-processing an old assessment must not overwrite newer evidence or flag by mistake.
    return (assessment_date is not None and task.assessment_date is not None
            and assessment_date < task.assessment_date)


def _escalation(task: ExistingTask, hit: TriggeredRule, now: datetime, assessment_date: date | None,
                catalogue: MitigationCatalogue) -> TaskToEscalate:
    due = due_at(catalogue, hit.priority, now)
    if task.due_at is not None and task.due_at < due:
        due = task.due_at
    return TaskToEscalate(task.task_id, task.rule_id, task.priority, hit.priority, due, hit.evidence, assessment_date)
