"""Turning events into notification rows, once each, and reading a person's own rows.

The insert ignores a row whose idempotency key exists: the detector may look at the same
event again (the next run's overlap, a second worker) and the person hears of it once."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.notifications.events import Event
from crisis_ct.notifications.models import Notification
from crisis_ct.notifications.preferences import Preferences, email_due_at
from crisis_ct.notifications.rules import KINDS, NotificationRule
from crisis_ct.spatial import spatial_sql

NOTIFICATIONS = Notification.__table__
# What a payload may carry besides a kind's own fields (rules.KINDS): the page it links to.
_PAYLOAD_EXTRA = ("link",)


def safe_payload(kind: str, payload: dict) -> dict:
    """Only the fields the kind declares: a detector cannot leak more than the rules allow."""
    allowed = set(KINDS[kind]["fields"]) | set(_PAYLOAD_EXTRA)
    return {name: value for name, value in payload.items() if name in allowed}


def notification_row(rule: NotificationRule, event: Event, user_id: int, preferences: Preferences,
                     now: datetime) -> dict:
    urgent = rule.priority == "urgent"
    email = "email" in rule.channels and preferences.email
    return {
        "user_id": user_id, "operation_id": event.operation_id, "kind": rule.kind,
        "idempotency_key": f"{event.key}:to:{user_id}"[:200], "payload": safe_payload(rule.kind, event.payload),
        "priority": rule.priority, "in_app": "in_app" in rule.channels and preferences.in_app,
        "created_at": now, "read_at": None, "email_status": "pending" if email else "skip",
        "email_due_at": email_due_at(preferences, now, urgent=urgent) if email else None,
        "attempts": 0,
    }


def record(session: Session, rows: Sequence[dict]) -> int:
    """Inserts the rows not yet known by their key; returns how many were new."""
    if not rows:
        return 0
    statement = (spatial_sql(session).insert(NOTIFICATIONS)
                 .on_conflict_do_nothing(index_elements=["idempotency_key"])
                 .returning(NOTIFICATIONS.c.id))
    # One statement per row: RETURNING tells which rows were new (few rows per run).
    return sum(len(session.execute(statement, row).all()) for row in rows)


# --- a person's own notifications (the bell, the list, the API) -------------------------------

def _visible(user_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(Notification.user_id == user_id, Notification.in_app.is_(True))


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        _visible(user_id), Notification.read_at.is_(None))) or 0


def list_for(session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50,
             offset: int = 0) -> tuple[int, list[Notification]]:
    query = sa.select(Notification).where(_visible(user_id))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                           .limit(limit).offset(offset)).all()
    return total, list(rows)


def get_own(session: Session, user_id: int, notification_id: int) -> Notification | None:
    """The person's own notification; another person's is None, as if it did not exist."""
    return session.scalar(sa.select(Notification).where(Notification.id == notification_id,
                                                        Notification.user_id == user_id))


def mark_read(session: Session, user_id: int, notification_id: int, now: datetime) -> Notification | None:
    row = get_own(session, user_id, notification_id)
    if row is not None and row.read_at is None:
        row.read_at = now
    return row


def mark_all_read(session: Session, user_id: int, now: datetime) -> int:
    return session.execute(sa.update(Notification).where(_visible(user_id), Notification.read_at.is_(None))
                           .values(read_at=now).execution_options(synchronize_session=False)).rowcount


# Kept this long, then gone: older rows are history nobody opens, and their keys are far
# outside any window the detector looks at again.
KEEP_DAYS = 180


def purge_old(session: Session, now: datetime) -> int:
    cutoff = now - timedelta(days=KEEP_DAYS)
    return session.execute(sa.delete(Notification).where(
        Notification.created_at < cutoff, Notification.email_status.not_in(("pending", "sending")))
        .execution_options(synchronize_session=False)).rowcount
