"""Area tasks against the database (both backends): one task per rule and admin area for an
action one team delivers across many sites, listing the sites that triggered it and following
them as they come and go (issue 12, "a task board people can act on")."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crisis_ct.geography.models import AdminArea
from crisis_ct.scoring.area import AreaScore
from crisis_ct.tasks.models import MitigationTask, TaskHistory, TaskSite
from crisis_ct.tasks.service import generate_for_area
from tests.tasks.test_generation_db import ASSESSED, NOW, build_world, generate, indicator, site_score

LEGAL_AID = indicator("DOC_LACK", "many", 3)  # -> M09, one task per district (adm2)
NO_LEGAL_NEED = indicator("DOC_LACK", "none", 1)


@pytest.fixture
def sites(database, seed, tmp_path):
    return build_world(database, seed, tmp_path)  # S0, S1, S2 in district XZ0101; S3 in XZ0102


def m09_tasks(database) -> list[tuple[int, str, str, list[str], str | None]]:
    """(id, district, status, listed site ids, review reason) of every M09 task."""
    with database.session() as session:
        tasks = session.execute(sa.select(MitigationTask.id, AdminArea.pcode, MitigationTask.status,
                                          MitigationTask.review_reason)
                                .join(AdminArea, AdminArea.id == MitigationTask.admin_area_id)
                                .where(MitigationTask.rule_id == "M09").order_by(MitigationTask.id)).all()
        listed = session.execute(sa.select(TaskSite.task_id, TaskSite.site_id)).all()
    return [(task_id, pcode, status, sorted(site for t, site in listed if t == task_id), reason)
            for task_id, pcode, status, reason in tasks]


def test_sites_of_one_district_share_one_task_that_lists_them(database, sites):
    for code in ("S0", "S1", "S3"):
        generate(database, sites[code], site_score(LEGAL_AID))
    tasks = m09_tasks(database)
    assert [(pcode, status, listed) for _, pcode, status, listed, _ in tasks] == [
        ("XZ0101", "open", sorted([sites["S0"], sites["S1"]])), ("XZ0102", "open", [sites["S3"]])]
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(MitigationTask).where(
            MitigationTask.rule_id == "M09", MitigationTask.site_id.is_not(None))) == 0


def test_a_site_that_no_longer_triggers_leaves_the_list_and_the_last_one_cancels_it(database, sites):
    for code in ("S0", "S1"):
        generate(database, sites[code], site_score(LEGAL_AID))
    generate(database, sites["S0"], site_score(NO_LEGAL_NEED), now=NOW + timedelta(hours=1))
    ((task_id, _, status, listed, _),) = m09_tasks(database)
    assert (status, listed) == ("open", [sites["S1"]])
    generate(database, sites["S1"], site_score(NO_LEGAL_NEED), now=NOW + timedelta(hours=2))
    ((_, _, status, listed, _),) = m09_tasks(database)
    assert (status, listed) == ("cancelled", [])
    with database.session() as session:
        assert session.get(MitigationTask, task_id).closed_at == NOW + timedelta(hours=2)
        events = session.execute(sa.select(TaskHistory.action, TaskHistory.details).where(
            TaskHistory.task_id == task_id).order_by(TaskHistory.id)).all()
    assert [(action, details.get("added"), details.get("removed"), details.get("reason"))
            for action, details in events] == [
        ("sites_changed", [sites["S1"]], [], None), ("sites_changed", [], [sites["S0"]], None),
        ("sites_changed", [], [sites["S1"]], None), ("cancelled", None, None, "no_sites_left")]


def test_a_held_task_whose_sites_all_left_is_flagged_not_cancelled(database, sites):
    generate(database, sites["S0"], site_score(LEGAL_AID))
    ((task_id, *_),) = m09_tasks(database)
    with database.session() as session:  # an expert is delivering the sessions
        session.execute(sa.update(MitigationTask).where(MitigationTask.id == task_id).values(status="in_progress"))
    generate(database, sites["S0"], site_score(NO_LEGAL_NEED), now=NOW + timedelta(hours=1))
    assert m09_tasks(database) == [(task_id, "XZ0101", "in_progress", [], "no_sites_left")]


def test_a_site_returning_after_the_cancellation_opens_a_new_task_only_with_newer_evidence(database, sites):
    generate(database, sites["S0"], site_score(LEGAL_AID))
    generate(database, sites["S0"], site_score(NO_LEGAL_NEED), now=NOW + timedelta(hours=1))
    generate(database, sites["S1"], site_score(LEGAL_AID), now=NOW + timedelta(hours=2))  # assessed before
    assert [status for _, _, status, _, _ in m09_tasks(database)] == ["cancelled"]
    later = NOW + timedelta(days=3)
    generate(database, sites["S1"], site_score(LEGAL_AID, assessment_date=later.date()), now=later)
    assert [(status, listed) for _, _, status, listed, _ in m09_tasks(database)] == [
        ("cancelled", []), ("open", [sites["S1"]])]


def test_the_area_task_takes_the_most_urgent_priority_of_its_sites(database, sites):
    generate(database, sites["S0"], site_score(indicator("POP_UASC", "few", 2), phase=3))  # M04 at P2
    generate(database, sites["S1"], site_score(indicator("POP_UASC", "few", 2), phase=4))  # M04 at P1 here
    with database.session() as session:
        ((priority, listed),) = session.execute(
            sa.select(MitigationTask.priority, sa.func.count(TaskSite.site_id))
            .join(TaskSite, TaskSite.task_id == MitigationTask.id).where(MitigationTask.rule_id == "M04")
            .group_by(MitigationTask.priority)).all()
    assert (priority, listed) == ("P1", 2)


# --- issue 12, item 6: a verified area task is re-opened only by newer evidence ---------------

HOTSPOT = AreaScore(phase=3, status="classified", sites_known=3, sites_assessed=3, population_known=600,
                    population_assessed=600, population_coverage=1.0, pct_sites_3plus=100.0, pct_sites_4plus=66.7,
                    population_by_phase={3: 200, 4: 400}, sites_by_phase={3: 1, 4: 2}, hotspot=True,
                    confidence="medium")


def _m03(database, area_id, assessed, now) -> list[str]:
    with database.session() as session:
        generate_for_area(session, admin_area_id=area_id, score=HOTSPOT, score_id=None, now=now,
                          assessment_date=assessed)
    with database.session() as session:
        return list(session.scalars(sa.select(MitigationTask.status).where(MitigationTask.rule_id == "M03")
                                    .order_by(MitigationTask.id)))


def test_a_verified_area_task_comes_back_only_with_evidence_newer_than_its_verification(database, sites):
    with database.session() as session:
        area_id = session.scalar(sa.select(AdminArea.id).where(AdminArea.pcode == "XZ01"))
    assert _m03(database, area_id, ASSESSED, NOW) == ["open"]
    verified_at = NOW + timedelta(days=5)
    with database.session() as session:
        session.execute(sa.update(MitigationTask).where(MitigationTask.rule_id == "M03")
                        .values(status="verified", closed_at=verified_at))
    # Re-scores of the area after the verification, with evidence up to its day: nothing new.
    assert _m03(database, area_id, ASSESSED, verified_at + timedelta(hours=1)) == ["verified"]
    assert _m03(database, area_id, ASSESSED + timedelta(days=4), verified_at + timedelta(days=1)) == ["verified"]
    assert _m03(database, area_id, verified_at.date(), verified_at + timedelta(days=1)) == ["verified"]
    # An assessment after the verification day that still makes the area a hot-spot: open again.
    newer = verified_at.date() + timedelta(days=1)
    assert _m03(database, area_id, newer, verified_at + timedelta(days=2)) == ["verified", "open"]
