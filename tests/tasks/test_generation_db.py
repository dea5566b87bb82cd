"""Task generation against the database (both backends), plus the small world the other
storage tests of tasks build on (imported from here: test modules cannot share a conftest
of their own in this folder)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crisis_ct.accounts.audit import Actor
from crisis_ct.accounts.models import AuditEvent
from crisis_ct.geography.importers import read_admin_areas, read_sites
from crisis_ct.geography.models import Site
from crisis_ct.geography.operations import get_operation, import_admin_areas, import_sites
from crisis_ct.scoring.area import AreaScore
from crisis_ct.scoring.rules import IndicatorResult, SiteScore
from crisis_ct.tasks.models import MitigationTask, TaskHistory
from crisis_ct.tasks.queries import task_history
from crisis_ct.tasks.service import generate_for_area, generate_for_site
from tests.support.geo_fixtures import write_levels, write_sites_csv

ACTOR = Actor.system("test")
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
ASSESSED = date(2026, 11, 18)

# Sites along the equator, 0.1° of longitude (~11.1 km) apart.
SITES = [("S0", "Camp zero", "planned_camp", 0.5, 0.5, 100, 20),
         ("S1", "Camp one", "self_settled", 0.5, 0.6, 200, 40),
         ("S2", "Camp two", "collective_centre", 0.5, 0.8, 300, 60),
         ("S3", "Camp three", "planned_camp", 0.5, 1.5, 400, 80)]


def build_world(database, seed, tmp_path, code: str = "op1", sites=SITES) -> dict[str, int]:
    """An operation with the test geography and `sites`; returns site code -> site row id."""
    seed.operation(code)
    folder = tmp_path / code
    folder.mkdir(exist_ok=True)
    paths = write_levels(folder)
    with database.session() as session:
        operation = get_operation(session, code)
        for level in (1, 2, 3):
            import_admin_areas(session, ACTOR, operation, read_admin_areas(paths[level], level))
        import_sites(session, ACTOR, operation, read_sites(write_sites_csv(folder / "sites.csv", sites)))
        rows = session.execute(sa.select(Site.site_code, Site.id).where(Site.operation_id == operation.id))
        return {site_code: site_id for site_code, site_id in rows}


def indicator(indicator_id: str, value, phase: int | None = 3, *, n_yes: int = 2, n_answered: int = 3,
              critical: bool = False, unconfirmed: bool = False) -> IndicatorResult:
    return IndicatorResult(indicator_id=indicator_id, domain=indicator_id[:1], critical=critical, value=value,
                           phase=phase, n_answered=n_answered, n_yes=n_yes, consensus=True,
                           unconfirmed=unconfirmed)


def site_score(*results: IndicatorResult, phase: int = 3, unconfirmed: tuple[str, ...] = (),
               assessment_date: date = ASSESSED, confidence: str = "medium") -> SiteScore:
    return SiteScore(phase=phase, domain_phases={"V": phase, "R": None, "E": phase, "S": None, "C": None},
                     indicators=tuple(results), drivers=(), rules_applied=(), critical_signals=(),
                     unconfirmed_signals=unconfirmed, confidence=confidence, recency="current", n_ki=3,
                     has_woman_ki=True, completeness=0.8, assessment_date=assessment_date,
                     submission_ids=(), catalogue_version="test")


ARMED_RECRUITMENT = indicator("EXP_ARMED_RECRUIT", "yes", 4)  # -> M05 (CP, P1)


def generate(database, site_id: int, score: SiteScore, now: datetime = NOW, site_type: str = "planned_camp"):
    with database.session() as session:
        return generate_for_site(session, site_id=site_id, score=score, score_id=None, site_type=site_type,
                                 now=now)


def tasks_of(database, site_id: int) -> list[MitigationTask]:
    with database.session() as session:
        return list(session.scalars(sa.select(MitigationTask).where(MitigationTask.site_id == site_id)
                                    .order_by(MitigationTask.rule_id, MitigationTask.id)))


def task_for(database, site_id: int, rule_id: str) -> MitigationTask:
    (task,) = [t for t in tasks_of(database, site_id) if t.rule_id == rule_id]
    return task


def history_of(database, task_id: int) -> list[TaskHistory]:
    """The task's stored history rows (its creation is the task row itself: see shown_history)."""
    with database.session() as session:
        return list(session.scalars(sa.select(TaskHistory).where(TaskHistory.task_id == task_id)
                                    .order_by(TaskHistory.id)))


def shown_history(database, task_id: int) -> list[SimpleNamespace]:
    """The task's history as the API shows it: creation first, then the stored events."""
    with database.session() as session:
        return [SimpleNamespace(**event) for event in task_history(session, session.get(MitigationTask, task_id))]


# ---------------------------------------------------------------------------------------------

@pytest.fixture
def sites(database, seed, tmp_path):
    return build_world(database, seed, tmp_path)


def test_a_triggered_rule_creates_one_open_task_linked_to_its_evidence(database, sites):
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT))
    task = task_for(database, sites["S0"], "M05")
    assert (task.status, task.priority, task.expertise) == ("open", "P1", ["CP"])
    assert {"kind": "indicator", "id": "EXP_ARMED_RECRUIT", "value": "yes"} in task.evidence
    assert task.assessment_date == ASSESSED
    assert task.title["fr"] and task.description["en"]


def test_due_date_follows_the_priority_response_time(database, sites):
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT))
    assert task_for(database, sites["S0"], "M05").due_at == NOW + timedelta(hours=72)


def test_rescoring_never_duplicates_an_open_task(database, sites):
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT))
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT), now=NOW + timedelta(days=1))
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT, assessment_date=ASSESSED + timedelta(days=3)),
             now=NOW + timedelta(days=4))
    assert [t.rule_id for t in tasks_of(database, sites["S0"])].count("M05") == 1


def test_the_database_refuses_a_second_open_task_of_one_rule_at_one_place(database, sites):
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT))
    original = task_for(database, sites["S0"], "M05")
    with pytest.raises(IntegrityError):
        with database.session() as session:
            copy = {c.name: getattr(original, c.key) for c in MitigationTask.__table__.columns if c.name != "id"}
            session.execute(sa.insert(MitigationTask.__table__).values(**copy))


def test_a_closed_task_does_not_block_a_new_one(database, sites):
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT))
    with database.session() as session:
        session.execute(sa.update(MitigationTask).values(status="cancelled"))
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT, assessment_date=ASSESSED + timedelta(days=5)),
             now=NOW + timedelta(days=6))
    assert sorted(t.status for t in tasks_of(database, sites["S0"]) if t.rule_id == "M05") == ["cancelled", "open"]


def test_a_stronger_trigger_escalates_the_task_with_a_history_entry(database, sites):
    generate(database, sites["S0"], site_score(indicator("SVC_REGISTRATION", "no", 3)))
    before = task_for(database, sites["S0"], "M16")
    assert before.priority == "P2"
    later = NOW + timedelta(hours=1)
    generate(database, sites["S0"], site_score(indicator("SVC_REGISTRATION", "no", 3),
                                               indicator("REC_LEFT_NO_NEWS", "yes", 4)), now=later)
    after = task_for(database, sites["S0"], "M16")
    assert (after.id, after.priority) == (before.id, "P1")
    assert after.due_at == later + timedelta(hours=72)
    escalated = [h for h in history_of(database, after.id) if h.action == "escalated"]
    assert len(escalated) == 1 and escalated[0].details["from_priority"] == "P2"


def test_when_risk_falls_open_tasks_are_flagged_for_review_not_closed(database, sites):
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT))
    generate(database, sites["S0"], site_score(indicator("EXP_ARMED_RECRUIT", "no", 1), phase=1),
             now=NOW + timedelta(days=2))
    task = task_for(database, sites["S0"], "M05")
    assert (task.status, task.needs_review, task.review_reason) == ("open", True, "no_longer_triggered")
    assert [h.action for h in shown_history(database, task.id)] == ["created", "flagged_for_review"]


def test_a_renewed_trigger_clears_the_review_flag(database, sites):
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT))
    generate(database, sites["S0"], site_score(phase=1), now=NOW + timedelta(days=1))
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT), now=NOW + timedelta(days=2))
    assert task_for(database, sites["S0"], "M05").needs_review is False


def test_a_single_ki_critical_signal_creates_the_verification_task(database, sites):
    signal = indicator("EXP_CONFINEMENT", "yes", 4, n_yes=1, critical=True, unconfirmed=True)
    generate(database, sites["S0"], site_score(signal, phase=2, unconfirmed=("EXP_CONFINEMENT",)))
    task = task_for(database, sites["S0"], "M02")
    assert task.status == "open"
    assert {"kind": "unconfirmed_signal", "id": "EXP_CONFINEMENT", "value": "yes"} in task.evidence


def test_creation_is_in_history_and_audit_log(database, sites):
    generate(database, sites["S0"], site_score(ARMED_RECRUITMENT))
    task = task_for(database, sites["S0"], "M05")
    assert history_of(database, task.id) == []  # creation is the task row itself
    (created,) = shown_history(database, task.id)
    assert (created.action, created.from_status, created.to_status, created.actor) == (
        "created", None, "open", "task-generator")
    assert created.at == task.created_at.isoformat()
    with database.session() as session:
        # The site's own tasks in one event; its area tasks (M01, M23 ...) in their area's event.
        (event,) = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "tasks.generated",
                                                               AuditEvent.target_type == "site"))
        assert (event.target_type, event.target_id, event.actor) == ("site", str(sites["S0"]), "task-generator")
        assert {"task_id": task.id, "rule_id": "M05", "action": "created", "from_status": None,
                "to_status": "open", "priority": task.priority} in event.details["tasks"]


def test_an_area_hotspot_creates_the_area_task(database, sites):
    from crisis_ct.geography.models import AdminArea

    with database.session() as session:
        area_id = session.scalar(sa.select(AdminArea.id).where(AdminArea.pcode == "XZ01"))
        score = AreaScore(phase=3, status="classified", sites_known=3, sites_assessed=3, population_known=600,
                          population_assessed=600, population_coverage=1.0, pct_sites_3plus=100.0,
                          pct_sites_4plus=0.0, population_by_phase={3: 600}, sites_by_phase={3: 3},
                          hotspot=True, confidence="medium")
        plan = generate_for_area(session, admin_area_id=area_id, score=score, score_id=None, now=NOW)
    assert [item.rule_id for item in plan.create] == ["M03"]
    with database.session() as session:
        task = session.scalar(sa.select(MitigationTask).where(MitigationTask.admin_area_id == area_id))
    assert (task.scope, task.rule_id, task.site_id) == ("admin_area", "M03", None)
