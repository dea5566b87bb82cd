"""The dashboard's figures: sites and people per phase by admin 1 (from the stored area
scores, crisis_ct.scoring.reads), tasks by status and priority, and for coordinators
the latest interviews (date, site, role category; never a person) and the quarantine."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.principal import Principal
from crisis_ct.geography.models import AdminArea, Operation, Site
from crisis_ct.kobo.models import Submission
from crisis_ct.projection import areas as area_projection
from crisis_ct.projection.audience import sees_site_level
from crisis_ct.scoring import reads
from crisis_ct.tasks import states
from crisis_ct.tasks.claims import TASKS, held_condition
from crisis_ct.tasks.queries import partner_task_condition

PHASE_KEYS = ("1", "2", "3", "4", "5")
RECENT_SUBMISSIONS = 20


@dataclass
class PhaseRow:
    """One admin 1 area (or the total): counts per phase as scoring stores them, or as
    suppressed for viewers ('<3', 'suppressed')."""
    pcode: str | None
    name: str
    operation: str
    status: str | None
    phase: int | None
    hotspot: bool
    sites_known: int | str
    sites_assessed: int | str
    sites_by_phase: dict = field(default_factory=dict)
    population_by_phase: dict = field(default_factory=dict)
    population_known: int | None = 0
    population_assessed: int | None = 0
    sites_expired: int | str = 0  # assessed once, expired now: not in the figures (issue 12)


def _summary_keys(summary: dict) -> dict:
    return {key: summary[key] for key in ("sites_by_phase", "population_by_phase", "population_known",
                                          "population_assessed", "sites_assessed", "sites_known",
                                          "pct_sites_3plus", "pct_sites_4plus")} | {
        "sites_expired": summary.get("sites_expired", 0)}


def _total(summaries: Sequence[dict]) -> dict:
    total = {"sites_by_phase": Counter(), "population_by_phase": Counter(), "population_known": 0,
             "population_assessed": 0, "sites_assessed": 0, "sites_known": 0, "sites_expired": 0,
             "pct_sites_3plus": None, "pct_sites_4plus": None}
    for summary in summaries:
        total["sites_by_phase"].update({p: summary["sites_by_phase"].get(p, 0) for p in PHASE_KEYS})
        total["population_by_phase"].update({p: summary["population_by_phase"].get(p, 0) for p in PHASE_KEYS})
        for key in ("population_known", "population_assessed", "sites_assessed", "sites_known", "sites_expired"):
            total[key] += summary[key] or 0
    total["sites_by_phase"] = {p: total["sites_by_phase"][p] for p in PHASE_KEYS}
    total["population_by_phase"] = {p: total["population_by_phase"][p] for p in PHASE_KEYS}
    return total


def phase_rows(session: Session, principal: Principal, language: str) -> tuple[list[PhaseRow], PhaseRow | None]:
    """Admin 1 rows and the total over them, each as crisis_ct.projection.areas shows it to
    this person: exact where they are an expert or above in the operation, else suppressed as
    the area API does (domain.md §4.3), the total row included."""
    operation_ids = principal.operation_ids("viewer")
    if not operation_ids:
        return [], None
    areas = session.scalars(sa.select(AdminArea).where(AdminArea.operation_id.in_(operation_ids),
                                                       AdminArea.level == 1)
                            .order_by(AdminArea.operation_id, AdminArea.pcode)).all()
    rows, exact_summaries, shown_summaries = [], [], []
    all_exact = True
    exact_by_operation: dict[int, Counter] = {}
    counts_of = reads.partner_counts_reader(session)
    for area in areas:
        risk = reads.area_risk(session, area)
        if risk is None:
            continue
        all_exact = all_exact and sees_site_level(principal, area.operation_id)
        exact_summaries.append(_summary_keys(risk))
        own = exact_by_operation.setdefault(area.operation_id, Counter())
        own.update({key: risk.get(key) or 0 for key in area_projection.SITE_COUNT_KEYS})
        shown = area_projection.area(principal, area.operation_id, risk, counts_of)
        shown_summaries.append(shown)
        rows.append(_row(shown, pcode=area.pcode, name=area.name(language),
                         operation=principal.operation_codes.get(area.operation_id, "")))
    if not rows:
        return [], None
    total = _total(exact_summaries)
    if all_exact:
        shown = total
    else:
        # Each operation's total as its partners see it (exact where this person sees site level).
        per_operation = [exact_by_operation[op] if sees_site_level(principal, op) else counts_of(op).get(None, {})
                         for op in exact_by_operation]
        shown = area_projection.total_for_partners(shown_summaries, total,
                                                   area_projection.total_site_counts(per_operation))
    return rows, _row(shown, pcode=None, name="", operation="")


def _row(shown: dict, *, pcode: str | None, name: str, operation: str) -> PhaseRow:
    return PhaseRow(
        pcode=pcode, name=name, operation=operation, status=shown.get("status"), phase=shown.get("phase"),
        hotspot=bool(shown.get("hotspot")), sites_known=shown["sites_known"], sites_assessed=shown["sites_assessed"],
        sites_by_phase=shown.get("sites_by_phase") or {}, population_by_phase=shown.get("population_by_phase") or {},
        population_known=shown.get("population_known"), population_assessed=shown.get("population_assessed"),
        sites_expired=shown.get("sites_expired") or 0)


@dataclass(frozen=True)
class TaskCounts:
    by_status_priority: dict[tuple[str, str], int]
    overdue: int

    def count(self, status: str, priority: str | None = None) -> int:
        return sum(n for (s, p), n in self.by_status_priority.items()
                   if s == status and (priority is None or p == priority))


def task_counts(session: Session, operation_ids: Sequence[int], now: datetime, *,
                admin_level_only: Sequence[int] = ()) -> TaskCounts:
    """Counted as the board lists them: a claim past its expiry counts as open, and of the
    `admin_level_only` operations only the tasks their viewers see."""
    if not operation_ids:
        return TaskCounts({}, 0)
    visible = partner_task_condition(admin_level_only) if admin_level_only else sa.true()
    lapsed = sa.and_(TASKS.c.status.in_(sorted(states.HELD_STATES)), sa.not_(held_condition(now)))
    status = sa.case((lapsed, states.OPEN), else_=TASKS.c.status).label("shown_status")
    rows = session.execute(sa.select(status, TASKS.c.priority, sa.func.count())
                           .where(TASKS.c.operation_id.in_(list(operation_ids)), visible)
                           .group_by(status, TASKS.c.priority)).all()
    # Overdue as crisis_ct.tasks.queries.task_json marks it: past due and not yet done.
    overdue = session.scalar(sa.select(sa.func.count()).select_from(TASKS).where(
        TASKS.c.operation_id.in_(list(operation_ids)), visible, TASKS.c.due_at < now,
        TASKS.c.status.not_in(sorted({*states.FINAL_STATES, states.DONE}))))
    return TaskCounts({(s, p): n for s, p, n in rows}, overdue or 0)


@dataclass(frozen=True)
class RecentSubmission:
    assessment_date: object
    submitted_at: datetime | None
    site_code: str
    site_name: str
    ki_role: str | None
    operation: str
    validation_status: str | None  # Kobo's review (scoring/counted.py)
    withdrawn_at: datetime | None  # deleted in Kobo


def recent_submissions(session: Session, operation_ids: Sequence[int],
                       limit: int = RECENT_SUBMISSIONS) -> list[RecentSubmission]:
    """Only the columns the dashboard may show: no answers, no names, no sex."""
    if not operation_ids:
        return []
    rows = session.execute(
        sa.select(Submission.assessment_date, Submission.submitted_at, Site.site_code, Site.name,
                  Submission.ki_role, Operation.code, Submission.validation_status, Submission.withdrawn_at)
        .join(Site, Site.id == Submission.site_id).join(Operation, Operation.id == Submission.operation_id)
        .where(Submission.operation_id.in_(list(operation_ids)))
        .order_by(Submission.created_at.desc(), Submission.id.desc()).limit(limit)).all()
    return [RecentSubmission(*row) for row in rows]
