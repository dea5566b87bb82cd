"""The dashboard: figures for everyone signed in, interviews and quarantine for coordinators."""
import sqlalchemy as sa

from crisis_ct.kobo.models import QuarantinedSubmission, Submission
from crisis_ct.tasks.models import MitigationTask


def test_the_dashboard_shows_sites_per_phase_per_admin1_and_task_counts(signed_in, database):
    assert 'href="/areas/XZ01"' in signed_in("viewer@example.org").get("/dashboard").get_data(as_text=True)
    # Every task for experts and above; a viewer counts only the tasks they see (tests/test_projection.py).
    page = signed_in("coord@example.org").get("/dashboard").get_data(as_text=True)
    with database.session() as session:
        open_tasks = session.scalar(sa.select(sa.func.count()).select_from(MitigationTask)
                                    .where(MitigationTask.status == "open"))
    open_row = page[page.index('href="/tasks?status=open"'):]
    open_row = open_row[:open_row.index("</tr>")]
    assert f'<td class="number">{open_tasks}</td>' in open_row


def test_a_viewer_does_not_see_interviews_or_quarantine(signed_in):
    page = signed_in("viewer@example.org").get("/dashboard").get_data(as_text=True)
    assert "Latest interviews received" not in page
    assert "/dashboard/quarantine" not in page
    assert signed_in("viewer@example.org").get("/dashboard/quarantine").status_code == 403


def test_a_coordinator_sees_interviews_by_role_category_only(signed_in, database):
    with database.session() as session:
        role = session.scalar(sa.select(Submission.ki_role).where(Submission.ki_role.is_not(None)))
        instance_id = session.scalar(sa.select(Submission.instance_id))
    page = signed_in("coord@example.org").get("/dashboard").get_data(as_text=True)
    from crisis_ct.web.labels import KI_ROLE_LABELS
    assert "Latest interviews received" in page
    assert str(KI_ROLE_LABELS[role]).replace("'", "&#39;") in page
    assert instance_id not in page


def test_the_coordinator_sees_the_quarantine_count_and_list(signed_in, database, scored):
    with database.session() as session:
        session.add(QuarantinedSubmission(operation_id=scored.operation_id, asset_uid="aX", instance_id="uuid:q1",
                                          reason_code="unknown_site", reason="No site <b>X9</b>.",
                                          raw={"name": "Secret Person"}, received_via="webhook"))
    coordinator = signed_in("coord@example.org")
    assert "Waiting in quarantine: 1" in coordinator.get("/dashboard").get_data(as_text=True)
    page = coordinator.get("/dashboard/quarantine").get_data(as_text=True)
    assert "unknown_site" in page and "No site &lt;b&gt;X9&lt;/b&gt;." in page
    assert "Secret Person" not in page
    assert 'href="/api/v1/kobo/quarantine"' in page


def test_the_overdue_count_counts_past_due_unfinished_tasks(signed_in, database):
    from datetime import timedelta

    from crisis_ct.timeutil import utcnow
    with database.session() as session:
        for task in session.scalars(sa.select(MitigationTask).order_by(MitigationTask.id).limit(2)):
            task.due_at = utcnow() - timedelta(hours=1)
    page = signed_in("a@example.org").get("/dashboard").get_data(as_text=True)
    assert "Overdue: 2" in page


def test_the_coordinator_resolves_an_unknown_site_on_the_quarantine_page(signed_in, database, scored):
    from crisis_ct.kobo.ingest import Ingestor
    from crisis_ct.kobo.models import KoboAsset
    from tests.support.kobo_world import SubmissionMaker
    from tests.web.conftest import csrf_token

    record = SubmissionMaker(seed=9).make("S1")
    record["site/site_id"] = "S1-B"
    with database.session() as session:
        Ingestor(session, session.get(KoboAsset, scored.asset_id), via="test").ingest([record])
        row_id = session.scalar(sa.select(QuarantinedSubmission.id))
    coordinator = signed_in("coord@example.org")
    page = coordinator.get("/dashboard/quarantine").get_data(as_text=True)
    assert "Last attempt" in page and '<option value="S1">Camp one' in page
    response = coordinator.post(f"/dashboard/quarantine/{row_id}/resolve",
                                data={"site_id": "S1", "csrf_token": csrf_token(coordinator, "/dashboard/quarantine")})
    assert response.status_code == 303
    with database.session() as session:
        assert session.scalar(sa.select(QuarantinedSubmission.status)) == "replayed"
        assert session.scalar(sa.select(Submission.id).where(Submission.instance_id == record["meta/instanceID"]))
    assert "Nothing is waiting in quarantine." in coordinator.get("/dashboard/quarantine").get_data(as_text=True)


def test_a_coordinator_sees_kobos_review_of_the_latest_interviews(signed_in, database):
    from crisis_ct.timeutil import utcnow

    with database.session() as session:
        first, second, third = session.scalars(sa.select(Submission).order_by(Submission.id)).all()[:3]
        first.validation_status = "validation_status_not_approved"
        second.validation_status = "validation_status_on_hold"
        third.withdrawn_at, third.withdrawn_reason = utcnow(), "deleted_in_kobo"
    page = signed_in("coord@example.org").get("/dashboard").get_data(as_text=True)
    assert "Review in Kobo" in page
    assert "Not approved: not counted" in page and "On hold: counted, flagged" in page
    assert "Deleted in Kobo: not counted" in page
def test_the_dashboard_says_how_many_expired_sites_are_left_out(signed_in, database):
    # issue 12 item 7: "2 / 4 assessed" must not silently omit sites whose data expired.
    from datetime import datetime, timezone

    from crisis_ct.scoring.service import rescore_aged

    with database.session() as session:
        assert rescore_aged(session, datetime(2027, 6, 1, tzinfo=timezone.utc)) == 2  # S1, S2 assessed 2026-11-01
    page = signed_in("coord@example.org").get("/dashboard").get_data(as_text=True)
    assert "2 expired, not counted" in page
    assert "0 / 4" in page
    viewer_page = signed_in("viewer@example.org").get("/dashboard").get_data(as_text=True)
    assert "&lt;3 expired, not counted" in viewer_page
