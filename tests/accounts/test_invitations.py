"""Invitations: a one-time link (only its hash stored) valid 72 hours, where the invited
person sets their own password (issue 13, item 3)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crisis_ct.accounts import invitations
from crisis_ct.accounts.audit import Actor
from crisis_ct.accounts.models import AuditEvent, Invitation, Membership, User
from crisis_ct.accounts.operations import AccountError, check_password, hash_token
from crisis_ct.timeutil import utcnow

ACTOR = Actor.system("test")
PASSWORD = "a long new password"


@pytest.fixture
def invited(seed, database):
    seed.operation("op1")
    now = utcnow()
    with database.session() as session:
        result = invitations.invite(session, ACTOR, "New.Person@example.org", operation_code="op1", role="expert",
                                    now=now, display_name="New Person", organisation="NGO A",
                                    expertise=["ct", "cp"], languages=["fr", "en"])
        return result, now


def test_an_invitation_creates_the_person_without_a_password_and_stores_only_a_hash(invited, database):
    result, now = invited
    assert result.token and result.expires_at == now + timedelta(hours=72)
    with database.session() as session:
        user = session.scalar(sa.select(User).where(User.email == "new.person@example.org"))
        assert user.password_hash is None
        assert (user.organisation, user.expertise, user.languages) == ("NGO A", ["CT", "CP"], ["fr", "en"])
        assert session.scalar(sa.select(Membership.role).where(Membership.user_id == user.id)) == "expert"
        stored = session.scalars(sa.select(Invitation)).all()
        assert [row.token_hash for row in stored] == [hash_token(result.token)]
        texts = " ".join(str(value) for row in session.execute(sa.select(Invitation.__table__)).all() for value in row)
        texts += " ".join(str(e.details) for e in session.scalars(sa.select(AuditEvent)))
        assert result.token not in texts
        assert "invitation.created" in session.scalars(sa.select(AuditEvent.action)).all()


def test_the_link_sets_the_password_once(invited, database):
    result, now = invited
    with database.session() as session:
        invitations.accept(session, result.token, PASSWORD, now=now + timedelta(hours=1))
    with database.session() as session:
        user = session.scalar(sa.select(User).where(User.email == "new.person@example.org"))
        assert check_password(user, PASSWORD)
        assert invitations.open_invitation(session, result.token, now=now + timedelta(hours=2)) is None
        with pytest.raises(AccountError):
            invitations.accept(session, result.token, "another long password", now=now + timedelta(hours=2))


def test_the_link_expires_after_72_hours(invited, database):
    result, now = invited
    with database.session() as session:
        assert invitations.open_invitation(session, result.token, now=now + timedelta(hours=71)) is not None
        assert invitations.open_invitation(session, result.token, now=now + timedelta(hours=72)) is None
        with pytest.raises(AccountError):
            invitations.accept(session, result.token, PASSWORD, now=now + timedelta(hours=73))


def test_a_new_link_replaces_the_open_one(invited, database):
    result, now = invited
    with database.session() as session:
        user = session.scalar(sa.select(User).where(User.email == "new.person@example.org"))
        renewed = invitations.renew(session, ACTOR, user, user_id_operation(session, user), now=now)
    with database.session() as session:
        assert invitations.open_invitation(session, result.token, now=now) is None
        assert invitations.open_invitation(session, renewed.token, now=now) is not None


def user_id_operation(session, user) -> int:
    return session.scalar(sa.select(Membership.operation_id).where(Membership.user_id == user.id))


def test_a_person_who_can_sign_in_gets_the_role_and_keeps_their_password(seed, database):
    seed.operation("op1")
    seed.operation("op2")
    seed.member("known@example.org", "expert", "op1", password="their own password")
    with database.session() as session:
        result = invitations.invite(session, ACTOR, "known@example.org", operation_code="op2", role="viewer",
                                    now=utcnow(), display_name="Someone Else", organisation="Other")
    assert result.token is None
    with database.session() as session:
        user = session.scalar(sa.select(User).where(User.email == "known@example.org"))
        assert check_password(user, "their own password")
        assert user.display_name != "Someone Else" and user.organisation is None
        assert session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_a_deactivated_person_cannot_use_their_link(invited, database):
    from crisis_ct.accounts import people

    result, now = invited
    with database.session() as session:
        people.disable_user(session, ACTOR, "new.person@example.org")
    with database.session() as session:
        assert invitations.open_invitation(session, result.token, now=now) is None
