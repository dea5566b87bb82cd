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
