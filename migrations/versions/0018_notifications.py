"""Notifications: one row per person and event (UNIQUE idempotency key), with the email's
state; each person's channels, digest and quiet hours; the detector's progress.

Revision ID: 0018_notifications
Revises: 0016_background_jobs
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0018_notifications"
down_revision = "0016_background_jobs"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
PENDING_WHERE = "email_status = 'pending'"


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE")),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("in_app", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS),
        sa.Column("email_status", sa.String(8), nullable=False),
        sa.Column("email_due_at", TS),
        sa.Column("sending_by", sa.String(200)),
        sa.Column("sending_at", TS),
        sa.Column("sent_at", TS),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.CheckConstraint("email_status IN ('skip','pending','sending','sent','failed')", name="email_status"),
    )
    op.create_index("ix_notifications_user_created", "notifications", ["user_id", "created_at"])
    op.create_index("ix_notifications_email_due", "notifications", ["email_due_at"],
                    postgresql_where=sa.text(PENDING_WHERE), sqlite_where=sa.text(PENDING_WHERE))
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("in_app", sa.Boolean, nullable=False),
        sa.Column("email", sa.Boolean, nullable=False),
        sa.Column("delivery", sa.String(12), nullable=False),
        sa.Column("digest_hour", sa.SmallInteger, nullable=False),
        sa.Column("quiet_start", sa.String(5)),
        sa.Column("quiet_end", sa.String(5)),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("areas", JSON, nullable=False),
        sa.Column("near_lon", sa.Float),
        sa.Column("near_lat", sa.Float),
        sa.Column("radius_km", sa.Float),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "notification_scans",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("scanned_until", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notification_scans")
    op.drop_table("notification_preferences")
    op.drop_index("ix_notifications_email_due", table_name="notifications")
    op.drop_index("ix_notifications_user_created", table_name="notifications")
    op.drop_table("notifications")
