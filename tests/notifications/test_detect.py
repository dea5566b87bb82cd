"""Finding what to tell whom, on both databases: the detector reads what the task, scoring
and Kobo tables record, and stores one notification per person and event."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from crisis_ct.accounts.models import User
from crisis_ct.kobo.models import KoboAsset, QuarantinedSubmission
from crisis_ct.notifications.rules import KINDS
from crisis_ct.scoring.models import AdminAreaRiskScore, SiteRiskScore
from crisis_ct.tasks import claims
from crisis_ct.tasks.models import MitigationTask
from tests.notifications.conftest import NOW, acting, later


def test_a_new_p1_task_reaches_the_experts_whose_expertise_language_and_area_match(world):
    world.p1_task("S2")  # lon 0.8, in XZ0101 (province XZ01)
    world.detect(later(1))
    told = {email for email, _ in world.notifications("task_new_match")}
    # cp: CP, English, no area set (the whole operation); cp-fr works in French, which op1 uses;
    # cp-near's radius of 5 km covers S2.
    assert told == {"cp@op1.org", "cp-fr@op1.org", "cp-near@op1.org"}
    # Not: Arabic only, the other province, another expertise, coordinators and viewers
    # (not in the rule's roles), another operation's expert.


def test_a_radius_that_does_not_reach_the_task_keeps_the_expert_out(world):
    world.p1_task("S0")  # lon 0.5: ~35 km from cp-near's point
    world.detect(later(1))
    told = {email for email, _ in world.notifications("task_new_match")}
    assert "cp-near@op1.org" not in told and "cp@op1.org" in told


def test_an_area_containing_the_task_lets_the_expert_hear_of_it(world):
    world.prefer("cp-far@op1.org", areas=["XZ01"])
    world.p1_task("S0")
    world.detect(later(1))
    assert ("cp-far@op1.org", "task_new_match") in world.notifications()


def test_looking_again_or_from_another_worker_never_stores_an_event_twice(world):
    world.p1_task("S2")
    first = world.detect(later(1))
    assert first > 0
    # The same window again (a retry, a second worker), and a later run whose overlap covers it.
    assert world.detect(later(1), since=NOW - timedelta(minutes=5)) == 0
    assert world.detect(later(5)) == 0
    keys = [row.idempotency_key for row in world.rows()]
    assert len(keys) == len(set(keys)) == first


def test_assigned_expired_verified_and_rejected_reach_the_person_concerned(world):
    task = world.p1_task("S0")
    coordinator, assignee_id = acting(world, "coord@op1.org", "coordinator", ()), world.user_id("cp@op1.org")
    with world.database.session() as session:
        row = session.get(MitigationTask, task.id)
        claims.assign(session, row, coordinator, assignee=session.get(User, assignee_id), now=later(1), hours=4,
                      max_active=5)
    world.detect(later(2))
    assert world.notifications("task_assigned") == [("cp@op1.org", "task_assigned")]
    # The claim runs out: expired (the expiry job), then the holder is told.
    with world.database.session() as session:
        claims.expire_claims(session, now=later(5 * 60))
    world.detect(later(5 * 60 + 1))
    assert world.notifications("claim_expired") == [("cp@op1.org", "claim_expired")]

    expert = acting(world, "cp-near@op1.org", "expert")
    for start, decision, kind in ((400, claims.reject, "task_rejected"), (410, claims.verify, "task_verified")):
        with world.database.session() as session:
            row = session.get(MitigationTask, task.id)
            claims.claim(session, row, expert, now=later(start), hours=24, max_active=5)
            claims.progress(session, row, expert, now=later(start + 1))
            claims.complete(session, row, expert, now=later(start + 2))
            decision(session, row, coordinator, now=later(start + 3))
        world.detect(later(start + 4))
        assert world.notifications(kind) == [("cp-near@op1.org", kind)]


def test_a_claim_about_to_end_warns_its_holder_once_and_again_after_a_renewal(world):
    task = world.p1_task("S0")
    expert = acting(world, "cp@op1.org", "expert")
    with world.database.session() as session:
        claims.claim(session, session.get(MitigationTask, task.id), expert, now=later(1), hours=24, max_active=5)
    world.detect(later(60))  # 23 h left: nothing yet
    assert world.notifications("claim_expiring") == []
    world.detect(later(1 + 22 * 60 + 30))  # 1 h 30 left
    world.detect(later(1 + 23 * 60))
    assert world.notifications("claim_expiring") == [("cp@op1.org", "claim_expiring")]
    with world.database.session() as session:
        claims.renew(session, session.get(MitigationTask, task.id), expert, now=later(1 + 23 * 60), hours=24)
    world.detect(later(1 + 23 * 60 + 22 * 60 + 30))
    assert world.notifications("claim_expiring") == [("cp@op1.org", "claim_expiring")] * 2


def _site_score(session, site_id: int, operation_id: int, phase: int, at):
    session.execute(sa.update(SiteRiskScore).where(SiteRiskScore.site_id == site_id).values(is_current=False))
    session.add(SiteRiskScore(site_id=site_id, operation_id=operation_id, computed_at=at, is_current=True,
                              phase=phase, catalogue_version="t", explanation={}))


def test_a_site_reaching_phase_4_tells_coordinators_and_the_experts_of_its_area(world):
    from crisis_ct.geography.models import Site

    site_id = world.sites["S2"]
    with world.database.session() as session:
        operation_id = session.get(Site, site_id).operation_id
        _site_score(session, site_id, operation_id, 3, later(1))
    with world.database.session() as session:
        _site_score(session, site_id, operation_id, 4, later(2))
    world.detect(later(3))
    told = {email for email, _ in world.notifications("site_high_phase")}
    # Experts with no area (cp, cp-fr, cp-ar, legal) hear of the whole operation; cp-near's
    # radius covers S2; cp-far follows the other province.
    assert "coord@op1.org" in told and "cp-near@op1.org" in told
    assert not told & {"cp-far@op1.org", "viewer@op1.org", "cp@op2.org"}
    # Staying at 4 (or going to 5) is no new crossing.
    with world.database.session() as session:
        _site_score(session, site_id, operation_id, 5, later(4))
    before = len(world.notifications())
    world.detect(later(5))
    assert len(world.notifications()) == before
    (row,) = [r for r in world.rows("site_high_phase") if r.user_id == world.user_id("coord@op1.org")]
    assert "Camp two" not in str(row.payload) and "S2" not in str(row.payload["area"])


def test_an_area_becoming_a_hotspot_tells_its_coordinators(world):
    from crisis_ct.geography.models import AdminArea

    with world.database.session() as session:
        area = session.scalar(sa.select(AdminArea).where(AdminArea.pcode == "XZ0101"))
        for minute, hotspot in ((1, False), (2, True)):
            session.execute(sa.update(AdminAreaRiskScore).where(AdminAreaRiskScore.admin_area_id == area.id)
                            .values(is_current=False))
            session.add(AdminAreaRiskScore(admin_area_id=area.id, operation_id=area.operation_id,
                                           computed_at=later(minute), is_current=True, phase=4, status="classified",
                                           hotspot=hotspot, catalogue_version="t", summary={}))
            session.flush()
    world.detect(later(3))
    assert world.notifications("area_hotspot") == [("coord@op1.org", "area_hotspot")]
    assert world.rows("area_hotspot")[0].payload["area"]["fr"] == "Zone XZ0101 (XZ0101)"


def test_a_growing_quarantine_and_a_failing_kobo_sync_tell_coordinators_once_a_day(world):
    from crisis_ct.geography.operations import get_operation

    with world.database.session() as session:
        operation_id = get_operation(session, "op1").id
        for n in range(20):
            session.add(QuarantinedSubmission(operation_id=operation_id, reason_code="unknown_site", reason="r",
                                              raw={}, received_via="webhook", instance_id=f"uuid:{n}"))
        session.add(KoboAsset(operation_id=operation_id, asset_uid="aXYZ", name="Site assessment",
                              server_url="https://kf.example.org", last_sync_status="failed",
                              last_sync_summary={"failing_since": (NOW - timedelta(hours=25)).isoformat()}))
    world.detect(later(1))
    world.detect(later(30))
    assert world.notifications("quarantine_growing") == [("coord@op1.org", "quarantine_growing")]
    assert world.notifications("kobo_sync_failing") == [("coord@op1.org", "kobo_sync_failing")]
    world.detect(later(24 * 60 + 1))  # the next day, still over the threshold
    assert len(world.notifications("quarantine_growing")) == 2


def test_a_payload_holds_only_the_fields_its_kind_declares(world):
    world.p1_task("S2")
    world.detect(later(1))
    for row in world.rows():
        assert set(row.payload) <= set(KINDS[row.kind]["fields"]) | {"link"}
        assert "Camp" not in str(row.payload)
