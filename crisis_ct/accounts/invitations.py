"""Inviting a person into an operation: their account and role exist at once (without a
password, so nobody can sign in as them), and a one-time link valid INVITATION_VALIDITY
lets them set their own password. Plain functions over a session, no Flask; each writes
the audit log and the caller commits.

Only the link token's SHA-256 is stored: the token is handed back once, to be mailed or
passed on by the coordinator. A newer invitation for the same person replaces an open one;
an accepted, replaced or expired link opens nothing."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts import people, web_sessions
from crisis_ct.accounts.audit import Actor, record
from crisis_ct.accounts.models import Invitation, User
from crisis_ct.accounts.operations import AccountError, find_operation, find_user, hash_token, set_password

INVITATION_VALIDITY = timedelta(hours=72)


@dataclass(frozen=True)
class Invited:
    user: User
    token: str | None  # None: the person already has a password and simply got the role
    expires_at: datetime | None


def invite(session: Session, actor: Actor, email: str, *, operation_code: str, role: str, now: datetime,
           display_name: str | None = None, organisation: str | None = None,
           expertise: list[str] | None = None, languages: list[str] | None = None) -> Invited:
    """Gives the person the role in the operation (creating the account if new) and, unless
    they can already sign in, a new invitation link."""
    # Someone who has an account keeps their profile: the invitation only adds the role.
    profile = {} if find_user(session, email) is not None else {
        "display_name": display_name, "organisation": organisation, "expertise": expertise, "languages": languages}
    user = people.add_role(session, actor, email, role=role, operation_code=operation_code, password=None,
                           **profile).user
    if user.password_hash:
        return Invited(user, None, None)
    return _new_link(session, actor, user, find_operation(session, operation_code).id, now)


def renew(session: Session, actor: Actor, user: User, operation_id: int, *, now: datetime) -> Invited:
    """A fresh link for a person who has not set a password yet (the old link stops working)."""
    if user.password_hash:
        raise AccountError(f"{user.email} has set a password already")
    return _new_link(session, actor, user, operation_id, now)


def _new_link(session: Session, actor: Actor, user: User, operation_id: int, now: datetime) -> Invited:
    session.execute(sa.update(Invitation).where(Invitation.user_id == user.id, Invitation.accepted_at.is_(None),
                                                Invitation.revoked_at.is_(None)).values(revoked_at=now))
    token = secrets.token_urlsafe(32)
    expires_at = now + INVITATION_VALIDITY
    invitation = Invitation(token_hash=hash_token(token), user_id=user.id, operation_id=operation_id,
                            invited_by=actor.label, created_at=now, expires_at=expires_at)
    session.add(invitation)
    session.flush()
    record(session, actor, "invitation.created", target_type="user", target_id=user.id, operation_id=operation_id,
           details={"email": user.email, "invitation": invitation.id, "expires_at": expires_at.isoformat()})
    return Invited(user, token, expires_at)


def open_invitation(session: Session, token: str, *, now: datetime) -> Invitation | None:
    """The invitation this link token opens, or None: unknown, used, replaced, expired, or
    its person deactivated since."""
    if not token or len(token) > 100:
        return None
    invitation = session.scalar(sa.select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if invitation is None or invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= now:
        return None
    user = session.get(User, invitation.user_id)
    return invitation if user is not None and user.is_active else None


def accept(session: Session, token: str, password: str, *, now: datetime) -> User:
    """The person sets their password through the link, which is then used up."""
    invitation = open_invitation(session, token, now=now)
    if invitation is None:
        raise AccountError("this invitation link is not valid (used, replaced or expired)")
    user = session.get(User, invitation.user_id)
    set_password(user, password)
    invitation.accepted_at = now
    web_sessions.end_user_sessions(session, user.id, now=now, reason="password_set")
    record(session, Actor(user.id, user.email), "invitation.accepted", target_type="user", target_id=user.id,
           operation_id=invitation.operation_id, details={"invitation": invitation.id})
    return user


def pending_user_ids(session: Session, user_ids: list[int], *, now: datetime) -> set[int]:
    """Of these people, those who have an open invitation and no password yet."""
    if not user_ids:
        return set()
    return set(session.scalars(
        sa.select(Invitation.user_id).join(User, User.id == Invitation.user_id)
        .where(Invitation.user_id.in_(user_ids), Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None), Invitation.expires_at > now, User.password_hash.is_(None))))
