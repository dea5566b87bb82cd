"""Server-side web sessions (issue 13, item 5): logout, a password change, deactivation and a
removed role end a session on the server; idle and absolute expiry. Both databases."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crisis_ct.accounts import people
from crisis_ct.accounts.audit import Actor
from crisis_ct.accounts.models import WebSession
from crisis_ct.app import create_app
from tests.web.conftest import PASSWORD, csrf_token, sign_in

ADMIN = Actor.system("test-admin")


def _copy_of(client, app):
    """Another browser holding a copy of this browser's cookie (stolen or shared)."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


@pytest.fixture
def signed_in(seed, operation, client):
    seed.member("e@example.org", "expert", operation)
    assert sign_in(client, "e@example.org").status_code == 302
    assert client.get("/map").status_code == 200
    return client


def test_a_cookie_copied_before_logout_is_refused_after_it(signed_in, app):
    copy = _copy_of(signed_in, app)
    assert copy.get("/map").status_code == 200
    signed_in.post("/logout", data={"csrf_token": csrf_token(signed_in, "/map")})
    assert copy.get("/map").status_code == 302
    assert copy.get("/api/v1/sites").status_code == 401


@pytest.mark.parametrize("change", [
    lambda s: people.reset_password(s, ADMIN, "e@example.org", "a brand new password"),
    lambda s: people.disable_user(s, ADMIN, "e@example.org"),
    lambda s: people.remove_role(s, ADMIN, "e@example.org", "op1"),
], ids=["password-reset", "disabled", "role-removed"])
def test_people_changes_end_the_session(signed_in, database, change):
    with database.session() as session:
        change(session)
    assert signed_in.get("/map").status_code == 302


def test_a_changed_password_ends_the_session_and_a_new_sign_in_works(signed_in, database):
    with database.session() as session:
        user_id = people.get_user(session, "e@example.org").id
        people.change_password(session, user_id, PASSWORD, "my own new password")
    assert signed_in.get("/map").status_code == 302
    assert sign_in(signed_in, "e@example.org", "my own new password").status_code == 302
    assert signed_in.get("/map").status_code == 200


def _age(database, **delta) -> None:
    with database.session() as session:
        for row in session.scalars(sa.select(WebSession)):
            if "idle" in delta:
                row.last_seen_at -= delta["idle"]
            if "since_sign_in" in delta:
                row.created_at -= delta["since_sign_in"]


def test_a_session_idle_longer_than_the_default_12_hours_ends(signed_in, database):
    _age(database, idle=timedelta(hours=11))
    assert signed_in.get("/map").status_code == 200  # and the visit resets the idle time
    _age(database, idle=timedelta(hours=11))
    assert signed_in.get("/map").status_code == 200
    _age(database, idle=timedelta(hours=12, minutes=1))
    assert signed_in.get("/map").status_code == 302


def test_a_session_ends_7_days_after_sign_in_however_busy(signed_in, database):
    _age(database, since_sign_in=timedelta(days=6, hours=23))
    assert signed_in.get("/map").status_code == 200
    _age(database, since_sign_in=timedelta(hours=1, minutes=1))
    assert signed_in.get("/map").status_code == 302
    with database.session() as session:
        assert session.scalar(sa.select(WebSession.ended_reason)) == "expired"


def test_the_idle_time_is_configurable(seed, operation, database):
    app = create_app({"DATABASE_URL": database.url, "SECRET_KEY": "k", "SESSION_IDLE_HOURS": 0.5,
                      "WTF_CSRF_ENABLED": False})
    try:
        client = app.test_client()
        seed.member("v@example.org", "viewer", operation)
        client.post("/login", data={"email": "v@example.org", "password": PASSWORD})
        assert client.get("/map").status_code == 200
        _age(database, idle=timedelta(minutes=31))
        assert client.get("/map").status_code == 302
    finally:
        app.extensions["crisis_ct_db"].dispose()
