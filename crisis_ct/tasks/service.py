"""Task generation against the database: the scoring module calls `generate_for_site` /
`generate_for_area` right after storing a new score, in the same transaction.

The pure planner (crisis_ct.tasks.generation) decides; this module reads the place's tasks,
applies the plan and writes history and audit rows. Duplicates are impossible even if two
scorings of one place race: the partial unique index on (place_key, rule_id) refuses the
second insert and that scoring transaction rolls back.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.audit import Actor
from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.scoring.area import AreaScore
from crisis_ct.scoring.rules import SiteScore
from crisis_ct.tasks import history, states
from crisis_ct.tasks.catalogue import MitigationCatalogue, indicator_scales, load_mitigation_rules
from crisis_ct.tasks.generation import ExistingTask, TaskPlan, plan_tasks
from crisis_ct.tasks.models import MitigationTask, expertise_column_value, place_key
from crisis_ct.tasks.triggers import Evidence, Facts, IndicatorFact, rules_triggered

GENERATOR = Actor.system("task-generator")


@lru_cache(maxsize=1)
def catalogues() -> tuple[MitigationCatalogue, dict[str, tuple[str, ...]]]:
    """The mitigation rules and the indicator answer scales, loaded once per process."""
    from crisis_ct.scoring.catalogue import load_catalogue

    scales = indicator_scales(load_catalogue())
    return load_mitigation_rules(indicator_scales=scales), scales


def site_facts(score: SiteScore, *, site_type: str, now: datetime) -> Facts:
    indicators = {
        result.indicator_id: IndicatorFact(value=result.value, phase=result.phase, n_yes=result.n_yes,
                                           n_answered=result.n_answered)
        for result in score.indicators
    }
    age = (now.date() - score.assessment_date).days if score.assessment_date else None
    return Facts(scope="site", indicators=indicators, site_phase=score.phase,
                 domain_phases=dict(score.domain_phases), unconfirmed_signals=tuple(score.unconfirmed_signals),
                 confidence=score.confidence, age_days=age, site_type=site_type)


def area_facts(score: AreaScore) -> Facts:
    # AreaScore carries no assessment date: age rules are site rules in the catalogue.
    return Facts(scope="admin_area", area_phase=score.phase, hotspot=score.hotspot, confidence=score.confidence)


def generate_for_site(session: Session, *, site_id: int, score: SiteScore, score_id: int | None,
                      site_type: str, now: datetime) -> TaskPlan:
    catalogue, scales = catalogues()
    facts = site_facts(score, site_type=site_type, now=now)
    operation_id = session.scalar(sa.select(Site.operation_id).where(Site.id == site_id))
    if operation_id is None:
        raise ValueError(f"no site with id {site_id}")
    return _generate(session, catalogue, rules_triggered(catalogue, facts, scales), scope="site",
                     place_id=site_id, operation_id=operation_id, score_id=score_id,
                     assessment_date=score.assessment_date, now=now)


def generate_for_area(session: Session, *, admin_area_id: int, score: AreaScore, score_id: int | None,
                      now: datetime) -> TaskPlan:
    catalogue, scales = catalogues()
    operation_id = session.scalar(sa.select(AdminArea.operation_id).where(AdminArea.id == admin_area_id))
    if operation_id is None:
        raise ValueError(f"no admin area with id {admin_area_id}")
    return _generate(session, catalogue, rules_triggered(catalogue, area_facts(score), scales),
                     scope="admin_area", place_id=admin_area_id, operation_id=operation_id,
                     score_id=score_id, assessment_date=None, now=now)


def _generate(session: Session, catalogue: MitigationCatalogue, triggered, *, scope: str, place_id: int,
              operation_id: int, score_id: int | None, assessment_date: date | None,
              now: datetime) -> TaskPlan:
    key = place_key(scope, place_id)
    tasks = {task.id: task for task in session.scalars(
        sa.select(MitigationTask).where(MitigationTask.place_key == key))}
    existing = [ExistingTask(t.rule_id, t.status, t.priority, t.id, t.assessment_date, t.due_at)
                for t in tasks.values()]
    plan = plan_tasks(triggered, existing, now=now, assessment_date=assessment_date, catalogue=catalogue)
    score_columns = {"site_score_id": score_id} if scope == "site" else {"area_score_id": score_id}

    for item in plan.create:
        rule = catalogue.rule(item.rule_id)
        task = MitigationTask(
            operation_id=operation_id, rule_id=rule.id, scope=scope, place_key=key,
            site_id=place_id if scope == "site" else None,
            admin_area_id=place_id if scope == "admin_area" else None,
            sector=rule.sector, title={"en": rule.title.en, "fr": rule.title.fr},
            description={"en": rule.description.en, "fr": rule.description.fr},
            expertise_tags=expertise_column_value(rule.expertise), priority=item.priority,
            status=states.OPEN, due_at=item.due_at, needs_review=False, evidence=evidence_json(item.evidence),
            assessment_date=item.assessment_date, created_at=now, updated_at=now, **score_columns)
        session.add(task)
        session.flush()
        history.write(session, GENERATOR, task, "created", from_status=None, to_status=states.OPEN, at=now,
                      details={"priority": item.priority, "score_id": score_id})

    for item in plan.escalate:
        task = tasks[item.task_id]
        task.priority, task.due_at = item.to_priority, item.due_at
        _refresh(task, item.evidence, item.assessment_date, score_columns, now)
        history.write(session, GENERATOR, task, "escalated", from_status=task.status, to_status=task.status,
                      at=now, details={"from_priority": item.from_priority, "to_priority": item.to_priority,
                                       "score_id": score_id})

    for item in plan.refresh:
        task = tasks[item.task_id]
        was_flagged = task.needs_review
        _refresh(task, item.evidence, item.assessment_date, score_columns, now)
        if was_flagged:
            history.write(session, GENERATOR, task, "review_cleared", from_status=task.status,
                          to_status=task.status, at=now, details={"score_id": score_id})

    for item in plan.review:
        task = tasks[item.task_id]
        if task.needs_review and task.review_reason == item.reason:
            continue  # already flagged for this reason: one history row, not one per rescoring
        task.needs_review, task.review_reason, task.updated_at = True, item.reason, now
        history.write(session, GENERATOR, task, "flagged_for_review", from_status=task.status,
                      to_status=task.status, at=now, details={"reason": item.reason, "score_id": score_id})
    session.flush()
    return plan


def _refresh(task: MitigationTask, evidence: Sequence[Evidence], assessment_date: date | None,
             score_columns: dict, now: datetime) -> None:
    task.evidence = evidence_json(evidence)
    if assessment_date is not None:
        task.assessment_date = assessment_date
    for column, value in score_columns.items():
        setattr(task, column, value)
    # The rule holds again, so a fall-in-risk flag no longer applies.
    task.needs_review, task.review_reason = False, None
    task.updated_at = now


def evidence_json(evidence: Sequence[Evidence]) -> list[dict]:
    return [{"kind": item.kind, "id": item.id, "value": list(item.value) if isinstance(item.value, tuple)
             else item.value} for item in evidence]
