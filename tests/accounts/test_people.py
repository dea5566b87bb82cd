"""The people operations every interface uses (crisis_ct.accounts.people), on both databases."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crisis_ct.accounts import login_throttle, people, web_sessions
from crisis_ct.accounts.audit import Actor
from crisis_ct.accounts.models import ApiToken, AuditEvent, User
from crisis_ct.accounts.operations import check_password, create_token
from crisis_ct.timeutil import utcnow

ADMIN = Actor.system("test-admin")
PASSWORD = "correct horse battery"
POLICY = web_sessions.SessionPolicy()


@pytest.fixture
def two_operations(seed):
    seed.operation("op1")
    seed.operation("op2")


def _actions(database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def _open_session(database, email: str) -> str:
    with database.session() as session:
        return web_sessions.start_session(session, people.get_user(session, email).id, now=utcnow())


def _session_user(database, session_id: str) -> int | None:
    with database.session() as session:
        return web_sessions.active_user_id(session, session_id, now=utcnow(), policy=POLICY)


def test_a_role_in_a_second_operation_keeps_the_password_and_the_profile(database, seed, two_operations):
    seed.member("e@example.org", "expert", "op1", expertise=("CT",), languages=("fr",))
    with database.session() as session:
        result = people.add_role(session, ADMIN, "e@example.org", role="viewer", operation_code="op2",
                                 password="another password entirely")
        assert not result.created
    with database.session() as session:
        user = people.get_user(session, "e@example.org")
        assert check_password(user, PASSWORD)
        assert not check_password(user, "another password entirely")
        assert (user.expertise, user.languages) == (["CT"], ["fr"])
    with database.session() as session:
        (person,) = people.list_people(session, email="e@example.org")
    assert person.roles == {"op1": "expert", "op2": "viewer"}
    assert _actions(database)[-1] == "user.role_set"


def test_a_new_person_has_no_page_language_until_they_choose(database, seed, two_operations):
    seed.member("n@example.org", "viewer", "op1")
    with database.session() as session:
        assert people.get_user(session, "n@example.org").preferred_language is None
        people.set_profile(session, ADMIN, "n@example.org", preferred_language="fr", organisation=" NGO X ",
                           expertise=["gbv", " cp "], languages=["FR", "en"])
    with database.session() as session:
        user = people.get_user(session, "n@example.org")
        assert (user.preferred_language, user.organisation, user.expertise, user.languages) == \
            ("fr", "NGO X", ["GBV", "CP"], ["fr", "en"])
        with pytest.raises(people.AccountError):
            people.set_profile(session, ADMIN, "n@example.org", preferred_language="de")
    assert _actions(database)[-1] == "user.profile_changed"


def test_removing_a_role_ends_sessions_and_revokes_that_operations_tokens(database, seed, two_operations):
    seed.member("e@example.org", "expert", "op1")
    seed.member("e@example.org", "expert", "op2")
    session_id = _open_session(database, "e@example.org")
    with database.session() as session:
        create_token(session, ADMIN, "e@example.org", name="op1 script", operation_code="op1")
        create_token(session, ADMIN, "e@example.org", name="op2 script", operation_code="op2")
    with database.session() as session:
        assert people.remove_role(session, ADMIN, "e@example.org", "op1") == 1
    assert _session_user(database, session_id) is None
    with database.session() as session:
        live = [t.name for t in people.list_tokens(session, "e@example.org")]
    # The unscoped tokens of seed.member and op2's stay: roles come from memberships, so the
    # unscoped one no longer reaches op1 anyway.
    assert sorted(live) == ["", "", "op2 script"]
    with database.session() as session:
        people.remove_role(session, ADMIN, "e@example.org", "op2")
    with database.session() as session:
        assert people.list_tokens(session, "e@example.org") == []
        with pytest.raises(people.AccountError):
            people.remove_role(session, ADMIN, "e@example.org", "op2")
    assert _actions(database).count("user.role_removed") == 2


def test_disabling_ends_sessions_and_enabling_does_not_bring_them_back(database, seed, two_operations):
    seed.member("v@example.org", "viewer", "op1")
    session_id = _open_session(database, "v@example.org")
    assert _session_user(database, session_id) is not None
    with database.session() as session:
        people.disable_user(session, ADMIN, "v@example.org", operation_code="op1")
    assert _session_user(database, session_id) is None
    with database.session() as session:
        user = people.enable_user(session, ADMIN, "v@example.org")
        assert user.is_active and user.disabled_at is None
    assert _session_user(database, session_id) is None
    assert _actions(database)[-2:] == ["user.disabled", "user.enabled"]


def test_a_password_reset_or_change_ends_sessions(database, seed, two_operations):
    seed.member("v@example.org", "viewer", "op1")
    first, second = _open_session(database, "v@example.org"), _open_session(database, "v@example.org")
    with database.session() as session:
        user_id = people.get_user(session, "v@example.org").id
        with pytest.raises(people.AccountError):
            people.change_password(session, user_id, "wrong", "a new long password")
        people.change_password(session, user_id, PASSWORD, "a new long password", keep_session=second)
    assert _session_user(database, first) is None
    assert _session_user(database, second) == user_id
    with database.session() as session:
        people.reset_password(session, ADMIN, "v@example.org", "reset by the admin")
        assert check_password(session.get(User, user_id), "reset by the admin")
    assert _session_user(database, second) is None
    assert _actions(database)[-2:] == ["user.password_changed", "user.password_reset"]


def test_unlock_opens_a_locked_email(database, seed, two_operations):
    seed.member("v@example.org", "viewer", "op1")
    policy = login_throttle.LoginPolicy(max_failures=2)
    key = login_throttle.email_counter("V@example.org")
    with database.session() as session:
        slots = [login_throttle.take_slot(session, key, now=utcnow(), policy=policy) for _ in range(3)]
    assert [slot.allowed for slot in slots] == [True, True, False]
    with database.session() as session:
        assert login_throttle.locked_until(session, key, now=utcnow(), policy=policy) is not None
        assert people.unlock(session, ADMIN, "v@example.org")
    with database.session() as session:
        assert login_throttle.locked_until(session, key, now=utcnow(), policy=policy) is None
        assert login_throttle.take_slot(session, key, now=utcnow(), policy=policy).allowed
    assert "user.unlocked" in _actions(database)


def test_person_details_and_token_listing_never_carry_the_secret(database, seed, two_operations):
    token = seed.member("v@example.org", "viewer", "op1")
    with database.session() as session:
        details = people.person_details(session, "v@example.org", session_policy=POLICY,
                                        login_policy=login_throttle.LoginPolicy())
        stored_hash = session.scalar(sa.select(ApiToken.token_hash))
    assert details.person.roles == {"op1": "viewer"}
    assert [t.prefix for t in details.tokens] == [token[:12]]
    rendered = repr(details)
    assert token not in rendered and stored_hash not in rendered


def test_sessions_expire_when_idle_and_after_the_absolute_limit(database, seed, two_operations):
    seed.member("v@example.org", "viewer", "op1")
    policy = web_sessions.SessionPolicy(idle=timedelta(hours=1), absolute=timedelta(hours=5))
    now = utcnow()
    with database.session() as session:
        user_id = people.get_user(session, "v@example.org").id
        busy = web_sessions.start_session(session, user_id, now=now)
        idle = web_sessions.start_session(session, user_id, now=now)
    for hours in (0.9, 1.8, 2.7, 3.6, 4.5):
        with database.session() as session:
            assert web_sessions.active_user_id(session, busy, now=now + timedelta(hours=hours), policy=policy)
    with database.session() as session:
        assert web_sessions.active_user_id(session, idle, now=now + timedelta(hours=1.1), policy=policy) is None
        assert web_sessions.active_user_id(session, busy, now=now + timedelta(hours=5), policy=policy) is None


def test_rows_of_sessions_no_cookie_can_use_are_purged(database, seed, two_operations):
    seed.member("v@example.org", "viewer", "op1")
    now = utcnow()
    with database.session() as session:
        user_id = people.get_user(session, "v@example.org").id
        ended = web_sessions.start_session(session, user_id, now=now)
        old = web_sessions.start_session(session, user_id, now=now - timedelta(days=8))
        live = web_sessions.start_session(session, user_id, now=now)
    with database.session() as session:
        web_sessions.end_session(session, ended, now=now)
        assert web_sessions.purge_ended(session, now=now, policy=POLICY) == 2
    with database.session() as session:
        assert web_sessions.active_user_id(session, live, now=now, policy=POLICY) == user_id
        assert web_sessions.active_user_id(session, old, now=now, policy=POLICY) is None
