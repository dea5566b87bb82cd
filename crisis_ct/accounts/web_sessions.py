"""Server-side web sessions: the cookie carries a random session id, the database keeps its
SHA-256 and whether the session is still open. Plain functions over a session, no Flask.

A session ends at logout, when its user's password changes, when the user is disabled or
loses a role, after `idle` without a request, and `absolute` after sign-in, whichever
comes first. Every app process reads the same rows, so an ended session is refused by all."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.models import WebSession

# last_seen_at is written at most this often per session: idle expiry counts in hours, and a
# write on every page view would make every read a write.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(hours=12)
    absolute: timedelta = timedelta(days=7)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(session: Session, user_id: int, *, now: datetime) -> str:
    """A new session for the user; returns the id for the cookie (only its hash is stored)."""
    session_id = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_hash(session_id), user_id=user_id, created_at=now, last_seen_at=now))
    return session_id


def expiry_reason(row: WebSession, *, now: datetime, policy: SessionPolicy) -> str | None:
    """Why an open session is over by now ('idle', 'expired'), or None while it lasts."""
    if now - row.created_at >= policy.absolute:
        return "expired"
    if now - row.last_seen_at >= policy.idle:
        return "idle"
    return None


def active_user_id(session: Session, session_id: str | None, *, now: datetime,
                   policy: SessionPolicy) -> int | None:
    """The user of an open, unexpired session with this id, or None. Notes the visit (for
    idle expiry) and closes a session found expired; the caller commits."""
    if not session_id:
        return None
    row = session.get(WebSession, _hash(session_id))
    if row is None or row.ended_at is not None:
        return None
    reason = expiry_reason(row, now=now, policy=policy)
    if reason is not None:
        row.ended_at, row.ended_reason = now, reason
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row.user_id


def end_session(session: Session, session_id: str | None, *, now: datetime, reason: str = "logout") -> bool:
    if not session_id:
        return False
    ended = session.execute(
        sa.update(WebSession)
        .where(WebSession.id_hash == _hash(session_id), WebSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
    )
    return ended.rowcount > 0


def end_user_sessions(session: Session, user_id: int, *, now: datetime, reason: str,
                      keep: str | None = None) -> int:
    """Ends every open session of the user (but `keep`, a session id); returns how many."""
    query = sa.update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
    if keep:
        query = query.where(WebSession.id_hash != _hash(keep))
    return session.execute(query.values(ended_at=now, ended_reason=reason)).rowcount


def open_session_count(session: Session, user_id: int, *, now: datetime, policy: SessionPolicy) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None),
               WebSession.created_at > now - policy.absolute, WebSession.last_seen_at > now - policy.idle)
    ) or 0


def purge_ended(session: Session, *, now: datetime, policy: SessionPolicy) -> int:
    """Deletes rows no cookie can use any more (for the worker or a cron job)."""
    return session.execute(
        sa.delete(WebSession).where(sa.or_(WebSession.ended_at.is_not(None),
                                           WebSession.created_at <= now - policy.absolute))
    ).rowcount


