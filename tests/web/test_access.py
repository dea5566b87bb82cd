from crisis_ct.accounts.audit import Actor, record
from crisis_ct.geography.operations import get_operation
from tests.web.conftest import sign_in


def test_a_viewer_gets_an_html_403_on_a_coordinator_page(viewer):
    response = viewer.get("/admin/audit")
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "You do not have access to this page." in response.get_data(as_text=True)


def test_the_api_keeps_json_errors(viewer):
    response = viewer.get("/api/v1/kobo/submissions")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_a_submitter_account_may_not_open_the_map(seed, operation, client):
    seed.member("kobo@example.org", "submitter", operation)
    sign_in(client, "kobo@example.org")
    assert client.get("/map").status_code == 403


def test_the_audit_page_shows_only_the_coordinators_operations(seed, operation, coordinator, database, tmp_path):
    seed.operation("other")
    with database.session() as session:
        record(session, Actor.system("test"), "secret.other", operation_id=get_operation(session, "other").id)
        record(session, Actor.system("test"), "visible.mine", operation_id=get_operation(session, "op1").id)
    page = coordinator.get("/admin/audit").get_data(as_text=True)
    assert "visible.mine" in page
    assert "secret.other" not in page


def test_the_audit_link_is_shown_only_to_whoever_may_open_it(seed, operation, viewer, app):
    assert "/admin/audit" not in viewer.get("/map").get_data(as_text=True)
    seed.member("coord@example.org", "coordinator", operation)
    other = app.test_client()
    sign_in(other, "coord@example.org")
    assert 'href="/admin/audit"' in other.get("/map").get_data(as_text=True)


def test_no_link_to_a_page_that_does_not_exist_yet(viewer, app):
    page = viewer.get("/map").get_data(as_text=True)
    for endpoint, label in (("web.tasks", "Tasks"), ("web.dashboard", "Dashboard")):
        if endpoint not in app.view_functions:
            assert f">{label}</a>" not in page
