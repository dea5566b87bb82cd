"""Task generation against the database: the scoring module calls `generate` with the new
scores of a batch of places, right after storing them, in the same transaction
(`generate_for_site` / `generate_for_area` wrap it for one place).

The pure planner (crisis_ct.tasks.generation) decides; this module reads the place's tasks,
applies the plan and writes history and audit rows. Hits of rules that make one task per
admin area (`task_per: admN`) go to crisis_ct.tasks.area_service instead, which keeps that
area's task and its list of sites. Duplicates are impossible even if two
scorings of one place race: the partial unique index on (place_key, rule_id) refuses the
second insert and that scoring transaction rolls back.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.bulk import cyclic_gc_paused
from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.scoring.area import AreaScore
from crisis_ct.scoring.rules import SiteScore
from crisis_ct.scoring.rules import domain_phases, site_phase_of
from crisis_ct.tasks import area_service, history, rule_texts, states
from crisis_ct.tasks.area_service import AreaBatch, evidence_json
from crisis_ct.tasks.area_tasks import SiteHit
from crisis_ct.tasks.batch_tasks import read_batch_tasks
from crisis_ct.tasks.catalogue import MitigationCatalogue, indicator_scales, load_mitigation_rules
from crisis_ct.tasks.generated_writes import GeneratedWrites
from crisis_ct.tasks.generation import ExistingTask, TaskPlan, plan_tasks
from crisis_ct.tasks.models import MitigationTask, expertise_column_value, place_key
from crisis_ct.tasks.triggers import Facts, IndicatorFact, TriggeredRule, rules_triggered

GENERATOR = history.GENERATOR


@lru_cache(maxsize=1)
def catalogues() -> tuple[MitigationCatalogue, dict[str, tuple[str, ...]]]:
    """The mitigation rules and the indicator answer scales, loaded once per process."""
    from crisis_ct.scoring.catalogue import load_catalogue

    scales = indicator_scales(load_catalogue())
    return load_mitigation_rules(indicator_scales=scales), scales


def site_facts(score: SiteScore, *, site_type: str, now: datetime) -> Facts:
    # An IndicatorResult reads as an IndicatorFact (value, phase, n_yes, n_answered): used as
    # it is, a full re-score builds no second object per site and indicator. Follow-up answers
    # (REC_OFFERS_TYPES) join them: rules read them like any select_multiple.
    indicators: dict = {result.indicator_id: result for result in score.indicators}
    for follow_up, codes in score.follow_ups.items():
        indicators[follow_up] = IndicatorFact(value=codes)
    age = (now.date() - score.assessment_date).days if score.assessment_date else None
    facts = Facts(scope="site", indicators=indicators, site_phase=score.phase,
                  domain_phases=dict(score.domain_phases), unconfirmed_signals=tuple(score.unconfirmed_signals),
                  confirmed_signals=tuple(score.critical_signals), confidence=score.confidence, age_days=age,
                  site_type=site_type)
    if not score.unconfirmed_signals:
        return facts
    # What the site is without its single-KI critical reports: rules that hold only with them
    # wait for confirmation (triggers.rules_triggered).
    unconfirmed = set(score.unconfirmed_signals)
    kept = [result for result in score.indicators if result.indicator_id not in unconfirmed]
    confirmed = replace(facts, indicators={k: v for k, v in indicators.items() if k not in unconfirmed},
                        site_phase=site_phase_of(kept), domain_phases=domain_phases(kept), unconfirmed_signals=())
    return replace(facts, confirmed=confirmed)


def area_facts(score: AreaScore, admin_level: int | None = None) -> Facts:
    return Facts(scope="admin_area", area_phase=score.phase, hotspot=score.hotspot, confidence=score.confidence,
                 admin_level=admin_level)


@dataclass(frozen=True)
class PlaceScoring:
    """One place's new score, as task generation needs it."""

    scope: str  # site | admin_area
    place_id: int
    operation_id: int
    facts: Facts
    score_id: int | None
    assessment_date: date | None


def site_scoring(*, site_id: int, operation_id: int, score: SiteScore, score_id: int | None, site_type: str,
                 now: datetime) -> PlaceScoring:
    return PlaceScoring("site", site_id, operation_id, site_facts(score, site_type=site_type, now=now), score_id,
                        score.assessment_date)


def area_scoring(*, admin_area_id: int, operation_id: int, score: AreaScore, score_id: int | None,
                 assessment_date: date | None = None, admin_level: int | None = None) -> PlaceScoring:
    """`assessment_date`: the newest assessment among the area's assessed sites. Without it a
    verified area task (M03) would come back at the next re-score: only evidence newer than
    its closing re-opens it."""
    return PlaceScoring("admin_area", admin_area_id, operation_id, area_facts(score, admin_level), score_id,
                        assessment_date)


def generate_for_site(session: Session, *, site_id: int, score: SiteScore, score_id: int | None,
                      site_type: str, now: datetime) -> TaskPlan:
    operation_id = session.scalar(sa.select(Site.operation_id).where(Site.id == site_id))
    if operation_id is None:
        raise ValueError(f"no site with id {site_id}")
    scoring = site_scoring(site_id=site_id, operation_id=operation_id, score=score, score_id=score_id,
                           site_type=site_type, now=now)
    return generate(session, [scoring], now=now)[0]


def generate_for_area(session: Session, *, admin_area_id: int, score: AreaScore, score_id: int | None,
                      now: datetime, assessment_date: date | None = None) -> TaskPlan:
    area = session.execute(sa.select(AdminArea.operation_id, AdminArea.level).where(AdminArea.id == admin_area_id)
                           ).one_or_none()
    if area is None:
        raise ValueError(f"no admin area with id {admin_area_id}")
    scoring = area_scoring(admin_area_id=admin_area_id, operation_id=area.operation_id, score=score,
                           score_id=score_id, assessment_date=assessment_date, admin_level=area.level)
    return generate(session, [scoring], now=now)[0]


_TASKS = MitigationTask.__table__


def generate(session: Session, scorings: Sequence[PlaceScoring], *, now: datetime,
             site_areas: Mapping[int, Mapping[int, int]] | None = None) -> list[TaskPlan]:
    """Plan and apply tasks for many places at once: one read of their tasks, bulk writes.
    `site_areas`: the admin areas of the scored sites (site id -> {level: area id}), when
    the caller has read them with the sites; else they are looked up.

    A full re-score of thousands of sites goes through here, so the cost is a few
    statements per thousand places rather than a few per place."""
    catalogue, scales = catalogues()
    with cyclic_gc_paused():
        site_ids = [scoring.place_id for scoring in scorings if scoring.scope == "site"]
        area_rules = _area_rules(catalogue)
        areas = site_areas if site_areas is not None else (
            area_service.site_areas(session, site_ids) if site_ids and area_rules else {})
        known = read_batch_tasks(session, site_ids, [s.place_id for s in scorings if s.scope == "admin_area"],
                                 areas, area_rules)
        existing = known.own
        area_batch = AreaBatch(catalogue, now, known)
        written = GeneratedWrites(now)
        writes = _Writes(now, written)
        plans = []
        for scoring in scorings:
            key = place_key(scoring.scope, scoring.place_id)
            tasks = existing.get(key, [])
            triggered = rules_triggered(catalogue, scoring.facts, scales)
            if scoring.scope == "site":
                area_batch.scored_site(scoring.place_id, scoring.operation_id)
                triggered = _site_hits(triggered, scoring, areas.get(scoring.place_id, {}), area_batch)
            else:
                # The area's own tasks (M03); its area tasks of site rules are area_batch's.
                tasks = [t for t in tasks if t.rule_id not in area_rules]
            plan = plan_tasks(triggered,
                              [ExistingTask(t.rule_id, t.status, t.priority, t.id, t.assessment_date, t.due_at,
                                            t.closed_at) for t in tasks],
                              now=now, assessment_date=scoring.assessment_date, catalogue=catalogue)
            writes.add(catalogue, scoring, key, plan, {t.id: t for t in tasks})
            plans.append(plan)
        writes.create(session, catalogue)
        area_batch.apply(session, written)
        written.write(session)
    return plans


@lru_cache(maxsize=8)
def _area_rules(catalogue: MitigationCatalogue) -> frozenset[str]:
    """Ids of the site rules that make one task per admin area."""
    return frozenset(rule.id for rule in catalogue.rules if rule.admin_level is not None)


def _site_hits(triggered: Sequence[TriggeredRule], scoring: PlaceScoring, areas: dict[int, int],
               area_batch: AreaBatch) -> list[TriggeredRule]:
    """The site's own hits; hits of area rules go to their area's task instead (a site in no
    known admin area keeps them as site tasks)."""
    own = []
    for hit in triggered:
        area_id = area_service.area_for(hit.rule, areas) if hit.rule.admin_level is not None else None
        if area_id is None:
            own.append(hit)
            continue
        area_batch.hit(area_id, hit.rule.id, SiteHit(scoring.place_id, hit.priority, hit.evidence,
                                                     scoring.assessment_date, scoring.score_id))
    return own


class _Writes:
    """What a batch of plans for places' own tasks writes: the new rows (`create`), and the
    updates and history it hands to `written` (GeneratedWrites)."""

    def __init__(self, now: datetime, written: GeneratedWrites):
        self.now = now
        self.written = written
        self.created: list[dict] = []
        # (place, rule id, priority) of each created row: its audit entry, once it has an id.
        self.created_events: list[tuple[tuple, str, str]] = []

    def _refresh_values(self, scoring: PlaceScoring, evidence, assessment_date) -> dict:
        values = {"evidence": evidence_json(evidence), "needs_review": False, "review_reason": None,
                  "updated_at": self.now, _score_column(scoring.scope): scoring.score_id}
        if assessment_date is not None:
            values["assessment_date"] = assessment_date
        return values

    def add(self, catalogue: MitigationCatalogue, scoring: PlaceScoring, key: str, plan: TaskPlan,
            tasks: dict) -> None:
        score_details = {"score_id": scoring.score_id}
        place = (scoring.scope, scoring.place_id, scoring.operation_id, scoring.score_id)
        site_id = scoring.place_id if scoring.scope == "site" else None
        admin_area_id = scoring.place_id if scoring.scope == "admin_area" else None
        rules = _rules_by_id(catalogue)
        written = self.written
        for item in plan.create:
            rule, expertise_tags = rules[item.rule_id]
            # Claim columns and review_reason are left out: NULL is their default.
            self.created.append({
                "operation_id": scoring.operation_id, "rule_id": rule.id, "scope": scoring.scope,
                "place_key": key, "site_id": site_id, "admin_area_id": admin_area_id,
                "sector": rule.sector, "rule_text_id": rule.id, "expertise_tags": expertise_tags,
                "priority": item.priority, "status": states.OPEN, "due_at": item.due_at, "needs_review": False,
                "evidence": evidence_json(item.evidence), "assessment_date": item.assessment_date,
                "site_score_id": scoring.score_id if site_id is not None else None,
                "area_score_id": scoring.score_id if site_id is None else None,
                "created_at": self.now, "updated_at": self.now})
            self.created_events.append((place, rule.id, item.priority))
        for item in plan.escalate:
            task = tasks[item.task_id]
            written.update(task.id, {"priority": item.to_priority, "due_at": item.due_at,
                                     **self._refresh_values(scoring, item.evidence, item.assessment_date)})
            written.event(task.id, place, task.rule_id, "escalated", task.status, task.status,
                          {"from_priority": item.from_priority, "to_priority": item.to_priority, **score_details})
        for item in plan.refresh:
            task = tasks[item.task_id]
            written.update(task.id, self._refresh_values(scoring, item.evidence, item.assessment_date))
            if task.needs_review:
                written.event(task.id, place, task.rule_id, "review_cleared", task.status, task.status,
                              score_details)
        for item in plan.review:
            task = tasks[item.task_id]
            if task.needs_review and task.review_reason == item.reason:
                continue  # already flagged for this reason: one history row, not one per rescoring
            written.update(task.id, {"needs_review": True, "review_reason": item.reason, "updated_at": self.now})
            written.event(task.id, place, task.rule_id, "flagged_for_review", task.status, task.status,
                          {"reason": item.reason, **score_details})

    def create(self, session: Session, catalogue: MitigationCatalogue) -> None:
        """Insert the new tasks now: their ids go into the audit events."""
        if not self.created:
            return
        text_ids = rule_texts.rule_text_ids(session, catalogue, {row["rule_text_id"] for row in self.created})
        for row in self.created:
            row["rule_text_id"] = text_ids[row["rule_text_id"]]
        ids = history.insert_rows(session, _TASKS, self.created, with_ids=True)
        self.written.created.extend((place, task_id, rule_id, priority)
                                    for (place, rule_id, priority), task_id in zip(self.created_events, ids))


@lru_cache(maxsize=8)
def _rules_by_id(catalogue: MitigationCatalogue) -> dict[str, tuple]:
    """rule id -> (rule, its expertise column value); first wins, as catalogue.rule()."""
    rules: dict[str, tuple] = {}
    for rule in catalogue.rules:
        rules.setdefault(rule.id, (rule, expertise_column_value(rule.expertise)))
    return rules


def _score_column(scope: str) -> str:
    return "site_score_id" if scope == "site" else "area_score_id"


