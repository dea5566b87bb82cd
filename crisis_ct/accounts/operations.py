"""Account actions: users, memberships, API tokens. Plain functions over a session."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from crisis_ct.accounts.audit import Actor, record
from crisis_ct.accounts.models import ROLES, ApiToken, Membership, User
from crisis_ct.geography.models import Operation
from crisis_ct.timeutil import utcnow

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_PREFIX = "cct_"
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why."""


def hash_token(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough and keeps every API call cheap.
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email):
        raise AccountError(f"'{email}' is not an email address")
    return email


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def find_operation(session: Session, code: str) -> Operation:
    operation = session.scalar(sa.select(Operation).where(Operation.code == code))
    if operation is None:
        raise AccountError(f"no operation with code '{code}'")
    return operation


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = generate_password_hash(password)


def check_password(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


@dataclass(frozen=True)
class NewUser:
    user: User
    created: bool


def add_user(
    session: Session,
    actor: Actor,
    email: str,
    *,
    role: str,
    operation_code: str,
    password: str | None,
    display_name: str | None = None,
    languages: list[str] | None = None,
    expertise: list[str] | None = None,
    organisation: str | None = None,
) -> NewUser:
    """Create the user if new, and give them `role` in the operation. `password` is used only
    for a new user (None: they get one later, e.g. through an invitation): giving an existing
    person a role never changes their password (crisis_ct.accounts.people.reset_password does)."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not '{role}'")
    operation = find_operation(session, operation_code)
    email = normalise_email(email)
    user = find_user(session, email)
    created = user is None
    if user is None:
        user = User(
            email=email,
            display_name=display_name or email.split("@")[0],
            languages=languages or ["en"],
            expertise=[tag.upper() for tag in expertise or []],
            organisation=organisation or None,
            is_active=True,
        )
        if password is not None:
            set_password(user, password)
        session.add(user)
    else:
        if languages:
            user.languages = languages
        if expertise is not None:
            user.expertise = [tag.upper() for tag in expertise]
        if display_name:
            user.display_name = display_name
        if organisation:
            user.organisation = organisation
    session.flush()
    membership = session.scalar(
        sa.select(Membership).where(Membership.user_id == user.id, Membership.operation_id == operation.id)
    )
    previous_role = None if membership is None else membership.role
    if membership is None:
        session.add(Membership(user_id=user.id, operation_id=operation.id, role=role))
    else:
        membership.role = role
    details = {"email": email, "role": role, "operation": operation.code}
    if previous_role is not None:
        details["previous_role"] = previous_role
    record(session, actor, "user.added" if created else "user.role_set", target_type="user",
           target_id=user.id, operation_id=operation.id, details=details)
    return NewUser(user, created)


def create_token(session: Session, actor: Actor, email: str, *, name: str = "",
                 operation_code: str | None = None) -> tuple[ApiToken, str]:
    """Returns the stored token row and the token itself, which is never stored. With
    `operation_code` the token acts only in that operation (where the user needs a role)."""
    user = find_user(session, email)
    if user is None:
        raise AccountError(f"no user with email '{email}'")
    operation_id = None
    if operation_code is not None:
        operation_id = find_operation(session, operation_code).id
        if session.scalar(sa.select(Membership.id).where(Membership.user_id == user.id,
                                                         Membership.operation_id == operation_id)) is None:
            raise AccountError(f"{user.email} has no role in '{operation_code}'")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:12], name=name,
                   operation_id=operation_id)
    session.add(row)
    session.flush()
    record(session, actor, "token.created", target_type="api_token", target_id=row.id, operation_id=operation_id,
           details={"user": user.email, "prefix": row.prefix, "name": name})
    return row, token


def revoke_tokens(session: Session, actor: Actor, *, email: str | None = None, prefix: str | None = None) -> int:
    """Revoke one token (by its shown prefix) or all tokens of a user."""
    query = sa.select(ApiToken).where(ApiToken.revoked_at.is_(None))
    if prefix:
        query = query.where(ApiToken.prefix == prefix[:12])
    if email:
        user = find_user(session, email)
        if user is None:
            raise AccountError(f"no user with email '{email}'")
        query = query.where(ApiToken.user_id == user.id)
    if not (email or prefix):
        raise AccountError("name a user (--email) or a token prefix (--prefix)")
    tokens = session.scalars(query).all()
    for token in tokens:
        token.revoked_at = utcnow()
        record(session, actor, "token.revoked", target_type="api_token", target_id=token.id,
               details={"prefix": token.prefix})
    return len(tokens)
