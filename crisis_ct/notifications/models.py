"""Notifications, each person's choices about them, and the detector's progress.

A notification row is both the in-app entry (the bell) and the email's outbox: its
`idempotency_key` is UNIQUE, so the detector can look at the same event any number of
times, in any number of workers, and the event becomes one row; `email_status` moves
pending -> sending -> sent in conditional UPDATEs, so one row is mailed at most once."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crisis_ct.db import Base
from crisis_ct.timeutil import utcnow
from crisis_ct.types import JSONType, UTCDateTime

# skip: not to be mailed (email off, or a kind without email); pending: waits for
# email_due_at; sending: a worker has it; sent; failed: gave up after MAX_ATTEMPTS.
EMAIL_STATUSES = ("skip", "pending", "sending", "sent", "failed")
PENDING_WHERE = "email_status = 'pending'"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_user_created", "user_id", "created_at"),
        # Only the few rows still to mail: what the sender looks for every few seconds.
        sa.Index("ix_notifications_email_due", "email_due_at",
                 postgresql_where=sa.text(PENDING_WHERE), sqlite_where=sa.text(PENDING_WHERE)),
        sa.CheckConstraint("email_status IN ('skip','pending','sending','sent','failed')", name="email_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    operation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    # Only the fields crisis_ct.notifications.rules.KINDS names (task title, admin area,
    # counts, a link path): never answers, site-level risk details or anyone's identity.
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    priority: Mapped[str] = mapped_column(sa.String(8), default="normal")
    in_app: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_status: Mapped[str] = mapped_column(sa.String(8), default="skip")
    email_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which worker took it and when: a row left "sending" by a worker that died is not
    # sent again (it may have gone out); it is marked failed with that reason.
    sending_by: Mapped[str | None] = mapped_column(sa.String(200))
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)


class NotificationPreference(Base):
    """One row per person; without one, DEFAULT_PREFERENCES apply."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    in_app: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    email: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    delivery: Mapped[str] = mapped_column(sa.String(12), default="immediate")  # immediate | digest
    digest_hour: Mapped[int] = mapped_column(sa.SmallInteger, default=7)  # local time
    # Quiet hours as local "HH:MM" (start may be after end: across midnight); both or neither.
    quiet_start: Mapped[str | None] = mapped_column(sa.String(5))
    quiet_end: Mapped[str | None] = mapped_column(sa.String(5))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    # Where new tasks interest this expert: admin-area P-codes, and/or a point and radius.
    areas: Mapped[list] = mapped_column(JSONType, default=list)
    near_lon: Mapped[float | None] = mapped_column(sa.Float)
    near_lat: Mapped[float | None] = mapped_column(sa.Float)
    radius_km: Mapped[float | None] = mapped_column(sa.Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationScan(Base):
    """Up to when the detector has looked (one row): the next run looks again from a little
    before it (crisis_ct.notifications.detect.SCAN_OVERLAP), because rows of a transaction
    that began earlier can become visible later."""

    __tablename__ = "notification_scans"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    scanned_until: Mapped[datetime] = mapped_column(UTCDateTime)
