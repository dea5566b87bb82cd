from datetime import timedelta

import sqlalchemy as sa

from crisis_ct.accounts.models import AuditEvent, LoginCounter
from tests.web.conftest import PASSWORD, csrf_token, sign_in


def _actions(database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_login_page_has_email_password_and_csrf_fields(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="email"' in page and 'name="password"' in page and 'name="csrf_token"' in page


def test_a_page_needs_login_and_remembers_where_to_go(client):
    response = client.get("/map?level=3")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/map?level%3D3"


def test_signing_in_goes_to_next_and_is_audited(seed, operation, client, database):
    seed.member("v@example.org", "viewer", operation)
    response = sign_in(client, "v@example.org", next_url="/map/list")
    assert response.status_code == 302
    assert response.headers["Location"] == "/map/list"
    assert client.get("/map/list").status_code == 200
    assert "login" in _actions(database)


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(seed, operation, client, database):
    seed.member("v@example.org", "viewer", operation)
    wrong = sign_in(client, "v@example.org", password="not the password")
    unknown = sign_in(client, "nobody@example.org", password="not the password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "Wrong email or password." in response.get_data(as_text=True)
    assert _actions(database).count("login.failed") == 2
    assert client.get("/map").status_code == 302


def test_a_login_without_csrf_token_is_refused_with_an_html_page(seed, operation, client):
    seed.member("v@example.org", "viewer", operation)
    response = client.post("/login", data={"email": "v@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert client.get("/map").status_code == 302


def test_next_may_not_send_anyone_to_another_site(seed, operation, client):
    seed.member("v@example.org", "viewer", operation)
    response = sign_in(client, "v@example.org", next_url="//evil.example/steal")
    assert response.headers["Location"] == "/map"


def test_logout_is_a_post_that_ends_the_session_and_is_audited(viewer, database):
    assert viewer.get("/logout").status_code == 405
    response = viewer.post("/logout", data={"csrf_token": csrf_token(viewer, "/map")})
    assert response.status_code == 302
    assert viewer.get("/map").status_code == 302
    assert _actions(database)[-1] == "logout"


def test_logout_without_csrf_token_is_refused(viewer):
    assert viewer.post("/logout").status_code == 400
    assert viewer.get("/map").status_code == 200


def test_session_cookie_is_httponly_and_samesite_lax(seed, operation, client):
    seed.member("v@example.org", "viewer", operation)
    cookie = sign_in(client, "v@example.org").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_when_configured(seed, operation, database):
    from crisis_ct.app import create_app

    app = create_app({"DATABASE_URL": database.url, "SECRET_KEY": "k", "SESSION_COOKIE_SECURE": True})
    try:
        seed.member("v@example.org", "viewer", operation)
        cookie = sign_in(app.test_client(), "v@example.org").headers["Set-Cookie"]
        assert "; Secure" in cookie
    finally:
        app.extensions["crisis_ct_db"].dispose()


def _client_locking_after(database, failures: int):
    from crisis_ct.app import create_app

    return create_app({"DATABASE_URL": database.url, "SECRET_KEY": "k", "LOGIN_MAX_FAILURES": failures,
                       "LOGIN_LOCKOUT_MINUTES": 15}).test_client()


def test_repeated_failures_lock_the_email_even_for_the_right_password(seed, operation, database):
    seed.member("v@example.org", "viewer", operation)
    client = _client_locking_after(database, 3)
    for _ in range(3):
        assert sign_in(client, "V@example.org", password="guess").status_code == 401
    locked = sign_in(client, "v@example.org")
    assert locked.status_code == 429
    assert "Too many failed sign-ins with this email. Try again in 15 minutes." in locked.get_data(as_text=True)
    assert client.get("/map").status_code == 302
    # Another email is not affected, and the lock is recorded.
    seed.member("w@example.org", "viewer", operation)
    assert sign_in(client, "w@example.org").status_code == 302
    assert _actions(database).count("login.throttled") == 1


def test_the_lock_ends_when_the_failures_leave_the_window(seed, operation, database):
    seed.member("v@example.org", "viewer", operation)
    client = _client_locking_after(database, 2)
    for _ in range(2):
        sign_in(client, "v@example.org", password="guess")
    assert sign_in(client, "v@example.org").status_code == 429
    with database.session() as session:
        for counter in session.scalars(sa.select(LoginCounter)):
            counter.window_started_at -= timedelta(minutes=16)
    assert sign_in(client, "v@example.org").status_code == 302
