"""People, their roles in operations, API tokens, and the audit log."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crisis_ct.db import Base
from crisis_ct.timeutil import utcnow
from crisis_ct.types import JSONType, UTCDateTime

# Ordered by what a role may see and do; submitter stands apart (Kobo's webhook only).
ROLE_RANK = {"viewer": 1, "expert": 2, "coordinator": 3, "admin": 4}
ROLES = ("admin", "coordinator", "expert", "viewer", "submitter")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    display_name: Mapped[str] = mapped_column(sa.String(200))
    languages: Mapped[list] = mapped_column(JSONType, default=lambda: ["en"])
    expertise: Mapped[list] = mapped_column(JSONType, default=list)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the account was disabled (is_active false), for the people list and the audit.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    organisation: Mapped[str | None] = mapped_column(sa.String(200))
    # The language of the pages, once the person chooses one; unset, pages follow the browser.
    # `languages` are the languages they work in (task matching), a different question.
    preferred_language: Mapped[str | None] = mapped_column(sa.String(8))


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "operation_id"),
        sa.CheckConstraint("role IN ('admin','coordinator','expert','viewer','submitter')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))


class ApiToken(Base):
    """Only a SHA-256 of the token is kept: the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A token made for one operation acts only there, and is revoked when the user's role
    # there is removed; without one it acts wherever the user holds a role.
    operation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"),
                                                     index=True)


class WebSession(Base):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is kept here, and
    a session counts only while its row is open: logout, a password change, deactivation or
    a removed role end it on the server, whatever copy of the cookie exists."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(sa.String(32))


class LoginCounter(Base):
    """Sign-in attempts per key ('email:…' or 'client:…') in the current window. One row per
    key, changed by a single INSERT … ON CONFLICT DO UPDATE … RETURNING: the count and the
    decision to check a password are one atomic step in the database, so concurrent attempts
    in any number of app processes cannot all pass the check."""

    __tablename__ = "login_counters"

    key: Mapped[str] = mapped_column(sa.String(160), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)


class AuditEvent(Base):
    """Who changed what, when. Written in the same transaction as the change."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(sa.String(254))
    operation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("operations.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(64))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict] = mapped_column(JSONType, default=dict)


class Invitation(Base):
    """A one-time link for a person to set their own password and join an operation. Only a
    SHA-256 of the link's token is kept; the token is shown (or mailed) once."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    invited_by: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A newer invitation for the same person replaces an open one.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
