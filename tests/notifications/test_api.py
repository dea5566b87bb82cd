"""The notifications API, on both databases: authenticated, and each person sees and
changes only their own."""
from __future__ import annotations

from tests.conftest import auth
from tests.notifications.conftest import later


def _tell_everyone(world):
    world.p1_task("S2")
    world.detect(later(1))


def test_every_endpoint_needs_authentication(client, world):
    for method, path in (("get", "/api/v1/notifications"), ("post", "/api/v1/notifications/1/read"),
                         ("get", "/api/v1/notifications/preferences"), ("put", "/api/v1/notifications/preferences")):
        response = getattr(client, method)(path, json={} if method != "get" else None)
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "unauthenticated"


def test_a_person_lists_their_own_notifications_in_their_language(client, world):
    _tell_everyone(world)
    mine = client.get("/api/v1/notifications", headers=auth(world.people["cp"])).get_json()
    assert mine["total"] == mine["unread"] == 1
    (item,) = mine["items"]
    assert item["kind"] == "task_new_match" and item["subject"].startswith("New P1 task near you: ")
    assert item["link"].startswith("/tasks/") and item["read_at"] is None
    french = client.get("/api/v1/notifications?lang=fr", headers=auth(world.people["cp"])).get_json()
    assert french["items"][0]["subject"].startswith("Nouvelle tâche P1")
    # The coordinator was not told about the task (not in the rule's roles): an empty list.
    assert client.get("/api/v1/notifications", headers=auth(world.people["coordinator"])).get_json()["total"] == 0


def test_marking_read_is_for_the_owner_only(client, world):
    _tell_everyone(world)
    (item,) = client.get("/api/v1/notifications", headers=auth(world.people["cp"])).get_json()["items"]
    stranger = client.post(f"/api/v1/notifications/{item['id']}/read", headers=auth(world.people["cp_fr"]))
    assert stranger.status_code == 404 and stranger.get_json()["error"]["code"] == "not_found"
    assert client.post(f"/api/v1/notifications/{item['id']}/read", headers=auth(world.people["cp"])).status_code == 200
    after = client.get("/api/v1/notifications", headers=auth(world.people["cp"])).get_json()
    assert after["unread"] == 0 and after["items"][0]["read_at"] is not None
    assert client.get("/api/v1/notifications?unread=true", headers=auth(world.people["cp"])).get_json()["total"] == 0
    # The other person's own notification is untouched.
    assert client.get("/api/v1/notifications", headers=auth(world.people["cp_fr"])).get_json()["unread"] == 1


def test_preferences_are_read_changed_and_checked(client, world):
    headers = auth(world.people["cp"])
    assert client.get("/api/v1/notifications/preferences", headers=headers).get_json()["delivery"] == "immediate"
    changed = client.put("/api/v1/notifications/preferences", headers=headers, json={
        "delivery": "digest", "digest_hour": 6, "quiet_start": "21:00", "quiet_end": "07:00",
        "timezone": "Africa/Kinshasa", "areas": ["XZ0101"], "email": False})
    assert changed.status_code == 200, changed.get_json()
    body = client.get("/api/v1/notifications/preferences", headers=headers).get_json()
    assert (body["delivery"], body["quiet_start"], body["timezone"], body["areas"], body["email"]) == (
        "digest", "21:00", "Africa/Kinshasa", ["XZ0101"], False)
    # Someone else's preferences did not move.
    assert client.get("/api/v1/notifications/preferences", headers=auth(world.people["cp_fr"])).get_json()["email"]
    for wrong, field in (({"timezone": "Mars/Olympus"}, "timezone"), ({"quiet_start": "25:00"}, "quiet_start"),
                         ({"radius_km": 10}, "radius_km"), ({"delivery": "weekly"}, "delivery")):
        response = client.put("/api/v1/notifications/preferences", headers=headers, json=wrong)
        assert response.status_code in (400, 422), wrong
        assert field in str(response.get_json()["error"]), wrong


def test_notifications_older_than_half_a_year_are_removed_unless_mail_waits(world):
    from datetime import timedelta

    from crisis_ct.notifications.store import KEEP_DAYS, purge_old

    _tell_everyone(world)
    with world.database.session() as session:
        assert purge_old(session, later(KEEP_DAYS * 24 * 60)) == 0  # still pending mail
    with world.database.session() as session:
        from crisis_ct.notifications.models import Notification
        session.query(Notification).update({"email_status": "sent"})
    with world.database.session() as session:
        assert purge_old(session, later(1) + timedelta(days=KEEP_DAYS - 1)) == 0
        assert purge_old(session, later(2) + timedelta(days=KEEP_DAYS)) == 3
