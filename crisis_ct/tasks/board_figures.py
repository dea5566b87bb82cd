"""Two figures that say whether an operation's task board is one people can act on (issue 12):
open tasks per assessed site (goal: at most 3), and P1 tasks at places with no site at phase
>= 4 and no confirmed critical signal (goal: none). The demo test and the benchmark print them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.scoring.models import SiteRiskScore
from crisis_ct.tasks import states
from crisis_ct.tasks.models import MitigationTask, TaskSite
from crisis_ct.timeutil import utcnow

URGENT_PHASE = 4
MAX_OPEN_PER_SITE = 3.0


@dataclass(frozen=True)
class BoardFigures:
    assessed_sites: int  # a current score whose assessment has not expired
    open_tasks: int
    p1_open_tasks: int
    p1_outside_urgent_sites: int  # P1 where no site is at phase >= 4 or has a confirmed critical signal

    @property
    def open_per_assessed_site(self) -> float:
        return self.open_tasks / self.assessed_sites if self.assessed_sites else float(self.open_tasks)

    def to_dict(self) -> dict:
        return {"assessed_sites": self.assessed_sites, "open_tasks": self.open_tasks,
                "open_per_assessed_site": round(self.open_per_assessed_site, 2),
                "p1_open_tasks": self.p1_open_tasks, "p1_outside_urgent_sites": self.p1_outside_urgent_sites}


def board_figures(session: Session, operation_id: int, *, today: date | None = None) -> BoardFigures:
    from crisis_ct.scoring.service import catalogue  # scoring settings: when an assessment expires

    today = today or utcnow().date()
    expired_before = today - timedelta(days=catalogue().settings.expired_days)
    scores = session.execute(
        sa.select(SiteRiskScore.site_id, SiteRiskScore.phase, SiteRiskScore.assessment_date,
                  SiteRiskScore.explanation, Site.adm1_pcode, Site.adm2_pcode, Site.adm3_pcode)
        .join(Site, Site.id == SiteRiskScore.site_id)
        .where(SiteRiskScore.operation_id == operation_id, SiteRiskScore.is_current)).all()
    assessed = sum(1 for row in scores if row.assessment_date and row.assessment_date >= expired_before)
    urgent_sites = {row.site_id for row in scores if _urgent(row.phase, row.explanation)}
    urgent_pcodes = {pcode for row in scores if row.site_id in urgent_sites
                     for pcode in (row.adm1_pcode, row.adm2_pcode, row.adm3_pcode) if pcode}

    open_condition = sa.and_(MitigationTask.operation_id == operation_id,
                             MitigationTask.status.not_in(sorted(states.FINAL_STATES)))
    open_tasks = session.scalar(sa.select(sa.func.count()).select_from(MitigationTask).where(open_condition))
    p1 = session.execute(sa.select(MitigationTask.id, MitigationTask.site_id, AdminArea.pcode)
                         .outerjoin(AdminArea, AdminArea.id == MitigationTask.admin_area_id)
                         .where(open_condition, MitigationTask.priority == "P1")).all()
    listed: dict[int, set[int]] = {}
    for task_id, site_id in session.execute(sa.select(TaskSite.task_id, TaskSite.site_id).where(
            TaskSite.task_id.in_([row.id for row in p1 if row.site_id is None]))):
        listed.setdefault(task_id, set()).add(site_id)
    outside = 0
    for task_id, site_id, pcode in p1:
        if site_id is not None:
            inside = site_id in urgent_sites
        elif task_id in listed:
            inside = bool(listed[task_id] & urgent_sites)
        else:  # an area rule's own task (M03): some site of the area must be urgent
            inside = pcode in urgent_pcodes
        outside += not inside
    return BoardFigures(assessed, open_tasks, len(p1), outside)


def _urgent(phase: int | None, explanation: dict | None) -> bool:
    return (phase or 0) >= URGENT_PHASE or bool((explanation or {}).get("critical_signals"))
