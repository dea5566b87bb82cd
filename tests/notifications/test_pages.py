"""The bell and the notifications pages through the test client, on both databases."""
from __future__ import annotations

import re

from tests.notifications.conftest import later
from tests.web.conftest import csrf_token, sign_in


def _bell(html: str) -> str:
    return re.search(r'<span class="bell-count[^"]*">(\d+)</span>', html).group(1)


def test_the_bell_counts_unread_notifications_and_the_list_marks_them_read(app, world):
    world.p1_task("S2")
    world.detect(later(1))
    client = app.test_client()
    sign_in(client, "cp@op1.org")
    page = client.get("/tasks").get_data(as_text=True)
    assert _bell(page) == "1"
    listing = client.get("/notifications").get_data(as_text=True)
    assert "New P1 task near you: " in listing and "(XZ010101)" in listing
    (row,) = [r for r in world.rows() if r.user_id == world.user_id("cp@op1.org")]
    token = csrf_token(client, "/notifications")
    assert client.post(f"/notifications/{row.id}/read", data={"csrf_token": token}).status_code == 302
    assert _bell(client.get("/notifications").get_data(as_text=True)) == "0"


def test_opening_a_notification_from_an_email_link_reads_it_and_goes_to_its_task(app, world):
    task = world.p1_task("S2")
    world.detect(later(1))
    (row,) = [r for r in world.rows() if r.user_id == world.user_id("cp@op1.org")]
    client = app.test_client()
    # Signed out, the link asks for a sign-in first.
    assert "/login" in client.get(f"/notifications/{row.id}").headers["Location"]
    sign_in(client, "cp@op1.org")
    response = client.get(f"/notifications/{row.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert [r.read_at is not None for r in world.rows() if r.id == row.id] == [True]
    # Someone else's notification does not exist for them.
    other = app.test_client()
    sign_in(other, "cp-fr@op1.org")
    assert other.get(f"/notifications/{row.id}").status_code == 404
    assert other.post(f"/notifications/{row.id}/read",
                      data={"csrf_token": csrf_token(other, "/notifications")}).status_code == 404


def test_settings_are_saved_from_the_page(app, world):
    client = app.test_client()
    sign_in(client, "cp@op1.org")
    token = csrf_token(client, "/notifications/preferences")
    response = client.post("/notifications/preferences", data={
        "csrf_token": token, "in_app": "on", "delivery": "digest", "digest_hour": "6", "quiet_start": "22:00",
        "quiet_end": "06:30", "timezone": "Africa/Kinshasa", "areas": "XZ01, XZ02"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Notification settings saved." in page
    assert 'value="XZ01, XZ02"' in page and 'value="Africa/Kinshasa"' in page
    bad = client.post("/notifications/preferences", data={"csrf_token": token, "timezone": "Nowhere/Land"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Not saved" in bad and "timezone" in bad


def test_the_settings_page_says_what_the_rules_tell_each_role_in_its_language(app, world):
    expert, coordinator = app.test_client(), app.test_client()
    sign_in(expert, "cp@op1.org")
    sign_in(coordinator, "coord@op1.org")
    page = expert.get("/notifications/preferences").get_data(as_text=True)
    assert "Your claim ends in less than 2 hours: the task title (the admin area)" in page
    assert "hot-spot" not in page  # a coordinators' rule
    assert "the admin area became a hot-spot" in coordinator.get("/notifications/preferences").get_data(as_text=True)
    coordinator.post("/language", data={"lang": "fr", "next": "/", "csrf_token": csrf_token(coordinator, "/tasks")})
    french = coordinator.get("/notifications/preferences").get_data(as_text=True)
    assert "Nouveau point chaud : la zone administrative" in french
    assert "Ce qui vous est signalé" in french
