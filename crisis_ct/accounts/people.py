"""What can be done to a person's account, for every interface (CLI, web pages, API).
Plain functions over a session, no Flask; each writes the audit log in the same transaction
and the caller commits.

- add_role: create the person if new, give them a role in an operation. It never changes
  an existing person's password: only reset_password (an administrator) or change_password
  (the person) do.
- remove_role, disable_user, reset_password, change_password end the person's web sessions;
  remove_role also revokes their API tokens made for that operation (and every token once
  they hold no role at all).
- unlock opens sign-in again after the lock on repeated failures.
- set_profile: display name, expertise, languages, organisation, preferred page language.
- list_people, person_details, list_tokens read (tokens never with their secret)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts import login_throttle, web_sessions
from crisis_ct.accounts.audit import Actor, record
from crisis_ct.accounts.models import ApiToken, Membership, User
from crisis_ct.accounts.operations import (AccountError, NewUser, add_user, check_password, find_operation,
                                           find_user, set_password)
from crisis_ct.geography.models import Operation
from crisis_ct.languages import LANGUAGES as PAGE_LANGUAGES
from crisis_ct.timeutil import utcnow

_UNCHANGED = object()

add_role = add_user  # crisis_ct.accounts.operations.add_user: one implementation, two names

__all__ = ["AccountError", "NewUser", "PAGE_LANGUAGES", "add_role", "remove_role", "disable_user",
           "enable_user", "reset_password", "change_password", "unlock", "set_profile", "get_user",
           "list_people", "person_details", "list_tokens", "PersonSummary", "TokenSummary"]


def get_user(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise AccountError(f"no user with email '{email}'")
    return user


def _operation_id(session: Session, operation_code: str | None) -> int | None:
    return None if operation_code is None else find_operation(session, operation_code).id


def remove_role(session: Session, actor: Actor, email: str, operation_code: str) -> int:
    """Removes the person's role in the operation; returns how many tokens were revoked."""
    user = get_user(session, email)
    operation = find_operation(session, operation_code)
    membership = session.scalar(sa.select(Membership).where(Membership.user_id == user.id,
                                                            Membership.operation_id == operation.id))
    if membership is None:
        raise AccountError(f"{user.email} has no role in '{operation.code}'")
    role = membership.role
    session.delete(membership)
    session.flush()
    now = utcnow()
    ended = web_sessions.end_user_sessions(session, user.id, now=now, reason="role_removed")
    tokens = sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if _has_any_role(session, user.id):
        tokens = tokens.where(ApiToken.operation_id == operation.id)
    revoked = session.execute(tokens.values(revoked_at=now)).rowcount
    record(session, actor, "user.role_removed", target_type="user", target_id=user.id, operation_id=operation.id,
           details={"email": user.email, "role": role, "operation": operation.code,
                    "sessions_ended": ended, "tokens_revoked": revoked})
    return revoked


def _has_any_role(session: Session, user_id: int) -> bool:
    return session.scalar(sa.select(sa.func.count()).select_from(Membership)
                          .where(Membership.user_id == user_id)) > 0


def disable_user(session: Session, actor: Actor, email: str, *, operation_code: str | None = None) -> User:
    """The person can no longer sign in or use a token; their sessions end now.
    `operation_code`: the operation the decision was taken for (shown in its audit page)."""
    user = get_user(session, email)
    now = utcnow()
    user.is_active, user.disabled_at = False, now
    ended = web_sessions.end_user_sessions(session, user.id, now=now, reason="disabled")
    record(session, actor, "user.disabled", target_type="user", target_id=user.id,
           operation_id=_operation_id(session, operation_code),
           details={"email": user.email, "sessions_ended": ended})
    return user


def enable_user(session: Session, actor: Actor, email: str, *, operation_code: str | None = None) -> User:
    user = get_user(session, email)
    user.is_active, user.disabled_at = True, None
    record(session, actor, "user.enabled", target_type="user", target_id=user.id,
           operation_id=_operation_id(session, operation_code), details={"email": user.email})
    return user


def reset_password(session: Session, actor: Actor, email: str, password: str, *,
                   operation_code: str | None = None) -> User:
    """An administrator sets a new password; every session of the person ends."""
    user = get_user(session, email)
    set_password(user, password)
    ended = web_sessions.end_user_sessions(session, user.id, now=utcnow(), reason="password_reset")
    record(session, actor, "user.password_reset", target_type="user", target_id=user.id,
           operation_id=_operation_id(session, operation_code),
           details={"email": user.email, "sessions_ended": ended})
    return user


def change_password(session: Session, user_id: int, current: str, new: str, *,
                    keep_session: str | None = None) -> User:
    """The person changes their own password, knowing the current one. Their other sessions
    end (`keep_session`: the session id the change was made from, which may stay)."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise AccountError("no such user")
    if not check_password(user, current):
        raise AccountError("the current password is wrong")
    set_password(user, new)
    ended = web_sessions.end_user_sessions(session, user.id, now=utcnow(), reason="password_changed",
                                           keep=keep_session)
    record(session, Actor(user.id, user.email), "user.password_changed", target_type="user",
           target_id=user.id, details={"sessions_ended": ended})
    return user


def unlock(session: Session, actor: Actor, email: str) -> bool:
    """Sign-in with this email is open again at once; True when it had failures counted."""
    user = get_user(session, email)
    cleared = login_throttle.clear(session, login_throttle.email_counter(user.email))
    record(session, actor, "user.unlocked", target_type="user", target_id=user.id,
           details={"email": user.email, "was_counted": cleared})
    return cleared


def _tags(values, *, upper: bool = False) -> list[str]:
    tags = [str(value).strip() for value in values if str(value).strip()]
    return [tag.upper() for tag in tags] if upper else [tag.lower() for tag in tags]


def set_profile(session: Session, actor: Actor, email: str, *, display_name=_UNCHANGED, expertise=_UNCHANGED,
                languages=_UNCHANGED, organisation=_UNCHANGED, preferred_language=_UNCHANGED,
                operation_code: str | None = None) -> User:
    """Changes the fields given (None clears organisation and preferred language);
    the audit event lists what changed."""
    user = get_user(session, email)
    changes: dict[str, object] = {}
    if display_name is not _UNCHANGED:
        if not (display_name or "").strip():
            raise AccountError("a display name cannot be empty")
        changes["display_name"] = display_name.strip()[:200]
    if expertise is not _UNCHANGED:
        changes["expertise"] = _tags(expertise or (), upper=True)
    if languages is not _UNCHANGED:
        changes["languages"] = _tags(languages or ())
    if organisation is not _UNCHANGED:
        changes["organisation"] = (organisation or "").strip()[:200] or None
    if preferred_language is not _UNCHANGED:
        if preferred_language not in (None, "", *PAGE_LANGUAGES):
            raise AccountError(f"the page language must be one of {', '.join(PAGE_LANGUAGES)}")
        changes["preferred_language"] = preferred_language or None
    changed = {name: value for name, value in changes.items() if getattr(user, name) != value}
    for name, value in changed.items():
        setattr(user, name, value)
    if changed:
        record(session, actor, "user.profile_changed", target_type="user", target_id=user.id,
               operation_id=_operation_id(session, operation_code),
               details={"email": user.email, "changed": changed})
    return user


@dataclass(frozen=True)
class PersonSummary:
    email: str
    display_name: str
    is_active: bool
    disabled_at: datetime | None
    organisation: str | None
    expertise: tuple[str, ...]
    languages: tuple[str, ...]
    preferred_language: str | None
    roles: dict[str, str]  # operation code -> role


def list_people(session: Session, operation_code: str | None = None, *, email: str | None = None
                ) -> list[PersonSummary]:
    """Everyone (or everyone holding a role in the operation, or the one person with this
    email), by email; roles shown are all of theirs, or only the operation's when one is named."""
    query = (sa.select(User, Operation.code, Membership.role)
             .outerjoin(Membership, Membership.user_id == User.id)
             .outerjoin(Operation, Operation.id == Membership.operation_id)
             .order_by(User.email, Operation.code))
    if operation_code is not None:
        query = query.where(Membership.operation_id == find_operation(session, operation_code).id)
    if email is not None:
        query = query.where(User.id == get_user(session, email).id)
    people: dict[int, PersonSummary] = {}
    for user, code, role in session.execute(query):
        person = people.get(user.id)
        if person is None:
            person = people[user.id] = PersonSummary(
                user.email, user.display_name, user.is_active, user.disabled_at, user.organisation,
                tuple(user.expertise or ()), tuple(user.languages or ()), user.preferred_language, {})
        if code is not None:
            person.roles[code] = role
    return list(people.values())


@dataclass(frozen=True)
class TokenSummary:
    prefix: str
    email: str
    name: str
    operation: str | None
    created_at: datetime
    revoked_at: datetime | None


def list_tokens(session: Session, email: str | None = None, *, include_revoked: bool = False) -> list[TokenSummary]:
    """Tokens by what identifies them to people (prefix, name): never the secret, which is
    not stored, nor its hash."""
    query = (sa.select(ApiToken.prefix, User.email, ApiToken.name, Operation.code, ApiToken.created_at,
                       ApiToken.revoked_at)
             .join(User, User.id == ApiToken.user_id)
             .outerjoin(Operation, Operation.id == ApiToken.operation_id)
             .order_by(User.email, ApiToken.created_at, ApiToken.id))
    if email is not None:
        query = query.where(ApiToken.user_id == get_user(session, email).id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return [TokenSummary(*row) for row in session.execute(query)]


@dataclass(frozen=True)
class PersonDetails:
    person: PersonSummary
    tokens: list[TokenSummary]
    open_sessions: int
    sign_in_locked_until: datetime | None


def person_details(session: Session, email: str, *, session_policy: web_sessions.SessionPolicy,
                   login_policy: login_throttle.LoginPolicy) -> PersonDetails:
    user = get_user(session, email)
    (person,) = list_people(session, email=user.email)
    now = utcnow()
    return PersonDetails(
        person=person,
        tokens=list_tokens(session, user.email, include_revoked=True),
        open_sessions=web_sessions.open_session_count(session, user.id, now=now, policy=session_policy),
        sign_in_locked_until=login_throttle.locked_until(session, login_throttle.email_counter(user.email),
                                                         now=now, policy=login_policy),
    )
