"""People management in the web (issue 13, item 3): a coordinator invites by email (the
one-time link shown when no mail is configured, or mailed), sets role (never above their
own), expertise, languages, organisation, and deactivates; an admin creates operations
with their first coordinator. Server-side, on both databases."""
from __future__ import annotations

import re
import socketserver
import threading

import pytest
import sqlalchemy as sa

from crisis_ct.accounts.models import AuditEvent, Invitation, Membership, User
from crisis_ct.accounts.operations import check_password, hash_token
from crisis_ct.app import create_app
from tests.web.conftest import PASSWORD, csrf_token, sign_in

LINK = re.compile(r'value="(http://localhost/invitation/[^"]+)"')
NEW_PASSWORD = "my very own password"


@pytest.fixture
def world(seed):
    seed.operation("op1")
    seed.operation("op2")
    seed.member("coord@example.org", "coordinator", "op1")
    seed.member("admin1@example.org", "admin", "op1")
    seed.member("expert@example.org", "expert", "op1", expertise=("CT",))
    seed.member("other@example.org", "expert", "op2")
    seed.member("boss@example.org", "admin", "op2")


def _post(client, path: str, data: dict, page: str = "/people"):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def _invite(client, email: str = "new@example.org", role: str = "expert", **extra):
    data = {"email": email, "display_name": "New Person", "role": role, "organisation": "NGO <b>A</b>",
            "languages": "fr, en", **extra}
    return _post(client, "/people/op1/invite", data)


def _user(database, email: str) -> User:
    with database.session() as session:
        return session.scalar(sa.select(User).where(User.email == email))


def _user_id(database, email: str) -> int:
    return _user(database, email).id


def test_the_people_page_lists_the_operation_only(world, client):
    sign_in(client, "coord@example.org")
    page = client.get("/people").get_data(as_text=True)
    assert "expert@example.org" in page and "coord@example.org" in page
    assert "other@example.org" not in page
    assert client.get("/people?operation=op2").status_code == 404


@pytest.mark.parametrize("email", ["expert@example.org"])
def test_experts_and_viewers_may_not_manage_people(world, client, email):
    sign_in(client, email)
    assert client.get("/people").status_code == 403


def test_inviting_without_mail_shows_the_link_once_and_stores_its_hash(world, client, database):
    sign_in(client, "coord@example.org")
    response = _invite(client, expertise=["CT", "CP"])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    link = LINK.search(page).group(1)
    token = link.rsplit("/", 1)[1]
    with database.session() as session:
        assert session.scalar(sa.select(Invitation.token_hash)) == hash_token(token)
        user = session.scalar(sa.select(User).where(User.email == "new@example.org"))
        assert (user.organisation, user.expertise, user.languages) == ("NGO <b>A</b>", ["CT", "CP"], ["fr", "en"])
        assert user.password_hash is None
    listing = client.get("/people").get_data(as_text=True)
    assert "Invited" in listing and "NGO &lt;b&gt;A&lt;/b&gt;" in listing
    assert token not in listing


def test_the_invited_person_sets_their_password_and_signs_in(world, client, app, database):
    sign_in(client, "coord@example.org")
    token = LINK.search(_invite(client).get_data(as_text=True)).group(1).rsplit("/", 1)[1]
    stranger = app.test_client()
    form = stranger.get(f"/invitation/{token}")
    assert form.status_code == 200 and "New Person" in form.get_data(as_text=True)
    mismatch = _post(stranger, f"/invitation/{token}", {"password": NEW_PASSWORD, "password_again": "other one!!"},
                     page=f"/invitation/{token}")
    assert mismatch.status_code == 422
    done = _post(stranger, f"/invitation/{token}", {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
                 page=f"/invitation/{token}")
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert check_password(_user(database, "new@example.org"), NEW_PASSWORD)
    assert stranger.get(f"/invitation/{token}").status_code == 404  # used once
    assert sign_in(stranger, "new@example.org", NEW_PASSWORD).status_code == 302
    assert stranger.get("/tasks").status_code == 200


def test_an_unknown_or_expired_link_opens_nothing(world, client, database):
    assert client.get("/invitation/not-a-token").status_code == 404
    sign_in(client, "coord@example.org")
    token = LINK.search(_invite(client).get_data(as_text=True)).group(1).rsplit("/", 1)[1]
    with database.session() as session:
        session.execute(sa.update(Invitation).values(expires_at=Invitation.created_at))
    assert client.get(f"/invitation/{token}").status_code == 404


def test_a_coordinator_cannot_give_a_role_above_their_own(world, client, database):
    sign_in(client, "coord@example.org")
    page = client.get("/people").get_data(as_text=True)
    assert 'value="admin"' not in page and 'value="coordinator"' in page
    assert _invite(client, role="admin").status_code == 403
    assert _user(database, "new@example.org") is None
    expert = _user_id(database, "expert@example.org")
    assert _post(client, f"/people/op1/{expert}", {"role": "admin"}).status_code == 403


def test_a_coordinator_cannot_change_an_admin(world, client, database):
    sign_in(client, "coord@example.org")
    admin = _user_id(database, "admin1@example.org")
    assert client.get(f"/people/op1/{admin}").status_code == 403
    assert _post(client, f"/people/op1/{admin}/deactivate", {}).status_code == 403


def test_role_expertise_languages_and_organisation_are_saved_and_audited(world, client, database):
    sign_in(client, "coord@example.org")
    expert = _user_id(database, "expert@example.org")
    response = _post(client, f"/people/op1/{expert}", {"role": "coordinator", "expertise": ["GBV", "CP"],
                                                       "languages": "ar, fr", "organisation": "UNHCR"})
    assert response.status_code == 302
    user = _user(database, "expert@example.org")
    assert (user.expertise, user.languages, user.organisation) == (["GBV", "CP"], ["ar", "fr"], "UNHCR")
    with database.session() as session:
        assert session.scalar(sa.select(Membership.role).where(Membership.user_id == expert)) == "coordinator"
        actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.actor == "coord@example.org")).all()
    assert "user.profile_changed" in actions


def test_a_deactivated_person_cannot_sign_in(world, client, app, database):
    sign_in(client, "coord@example.org")
    expert = _user_id(database, "expert@example.org")
    assert _post(client, f"/people/op1/{expert}/deactivate", {}).status_code == 302
    assert not _user(database, "expert@example.org").is_active
    assert "Deactivated" in client.get("/people").get_data(as_text=True)
    assert sign_in(app.test_client(), "expert@example.org").status_code != 302
    assert _post(client, f"/people/op1/{expert}/reactivate", {}).status_code == 302
    assert sign_in(app.test_client(), "expert@example.org").status_code == 302


def test_someone_with_a_role_elsewhere_is_removed_not_deactivated(world, seed, client, database):
    seed.member("other@example.org", "expert", "op1")  # also in op2, which coord does not manage
    sign_in(client, "coord@example.org")
    other = _user_id(database, "other@example.org")
    assert _post(client, f"/people/op1/{other}/deactivate", {}).status_code == 403
    assert _post(client, f"/people/op1/{other}/remove", {}).status_code == 302
    assert _user(database, "other@example.org").is_active
    with database.session() as session:
        roles = session.scalars(sa.select(Membership.role).where(Membership.user_id == other)).all()
    assert roles == ["expert"]  # op2's


def test_another_operations_person_is_not_found(world, client, database):
    sign_in(client, "coord@example.org")
    other = _user_id(database, "other@example.org")
    assert client.get(f"/people/op1/{other}").status_code == 404
    assert client.get(f"/people/op2/{other}").status_code == 404


def test_forms_need_their_csrf_token(world, client):
    sign_in(client, "coord@example.org")
    response = client.post("/people/op1/invite", data={"email": "x@example.org", "role": "expert"})
    assert response.status_code == 400


def test_the_page_speaks_french(world, client):
    sign_in(client, "coord@example.org")
    page = client.get("/people", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Inviter" in page and "Rôle" in page


def test_an_admin_creates_an_operation_with_its_first_coordinator(world, client, database):
    sign_in(client, "admin1@example.org")
    assert client.get("/admin/operations").status_code == 200
    response = _post(client, "/admin/operations", {"code": "sdn-2026", "name": "Sudan 2026", "country": "sdn",
                                                   "languages": "ar, en", "coordinator_email": "lead@example.org"},
                     page="/admin/operations")
    assert response.status_code == 200
    assert LINK.search(response.get_data(as_text=True))
    with database.session() as session:
        roles = dict(session.execute(
            sa.select(User.email, Membership.role).join(Membership, Membership.user_id == User.id)
            .where(Membership.operation_id == sa.select(sa.literal_column("id")).select_from(
                sa.table("operations", sa.column("code"))).where(sa.column("code") == "sdn-2026")
                .scalar_subquery())).all())
    assert roles == {"lead@example.org": "coordinator", "admin1@example.org": "admin"}


def test_only_admins_create_operations(world, client):
    sign_in(client, "coord@example.org")
    assert client.get("/admin/operations").status_code == 403


def test_a_bad_operation_form_says_why(world, client):
    sign_in(client, "admin1@example.org")
    response = _post(client, "/admin/operations", {"code": "op1", "name": "Again", "country": "XZZ",
                                                   "coordinator_email": "lead@example.org"}, page="/admin/operations")
    assert response.status_code == 422
    assert "exists already" in response.get_data(as_text=True)


class _FakeSmtp(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one message; what it received is kept on the server."""

    def handle(self):
        self.wfile.write(b"220 fake\r\n")
        data = False
        while line := self.rfile.readline():
            if data:
                if line == b".\r\n":
                    data = False
                    self.wfile.write(b"250 ok\r\n")
                else:
                    self.server.received.append(line.decode())
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                data = True
                self.wfile.write(b"354 go\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeSmtp)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_with_mail_configured_the_link_is_mailed_not_shown(world, database, smtp_server):
    app = create_app({"DATABASE_URL": database.url, "TESTING": True, "SECRET_KEY": "test-secret",
                      "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.server_address[1], "SMTP_STARTTLS": False,
                      "MAIL_FROM": "ct@example.org"})
    client = app.test_client()
    sign_in(client, "coord@example.org", PASSWORD)
    page = _invite(client).get_data(as_text=True)
    assert not LINK.search(page) and "sent" in page
    mail = "".join(smtp_server.received)
    assert "new@example.org" in mail and "/invitation/" in mail
    app.extensions["crisis_ct_db"].dispose()


def test_an_expired_link_is_shown_and_a_new_one_replaces_it(world, client, database):
    sign_in(client, "coord@example.org")
    old = LINK.search(_invite(client).get_data(as_text=True)).group(1)
    with database.session() as session:
        session.execute(sa.update(Invitation).values(expires_at=Invitation.created_at))
    assert "Invitation link expired" in client.get("/people").get_data(as_text=True)
    person = _user_id(database, "new@example.org")
    response = _post(client, f"/people/op1/{person}/new-link", {}, page=f"/people/op1/{person}")
    new = LINK.search(response.get_data(as_text=True)).group(1)
    assert new != old
    assert client.get(new.replace("http://localhost", "")).status_code == 200
    assert client.get(old.replace("http://localhost", "")).status_code == 404


def test_inviting_again_cannot_change_the_role_of_someone_above(world, client, database):
    sign_in(client, "coord@example.org")
    assert _invite(client, email="admin1@example.org", role="viewer").status_code == 403
    with database.session() as session:
        role = session.scalar(sa.select(Membership.role).join(User, User.id == Membership.user_id)
                              .where(User.email == "admin1@example.org"))
    assert role == "admin"


def test_only_catalogue_expertise_and_language_codes_are_kept(world, client, database):
    sign_in(client, "coord@example.org")
    expert = _user_id(database, "expert@example.org")
    _post(client, f"/people/op1/{expert}", {"role": "expert", "expertise": ["CP", "<script>", "NOPE"],
                                            "languages": "FR, english, ar, <b>"})
    user = _user(database, "expert@example.org")
    assert (user.expertise, user.languages) == (["CP"], ["fr", "ar"])
