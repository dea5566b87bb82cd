"""Background work: the scoring queue remembers failures (attempts, error, retry time), the
scheduled jobs keep their last run and next run, workers beat a heartbeat, and each Kobo
project may set its own sync interval.

Revision ID: 0016_background_jobs
Revises: 0015_invitations
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_background_jobs"
down_revision = "0015_invitations"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("scoring_queue") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_error", sa.Text))
        batch.add_column(sa.Column("retry_at", TS))
    op.create_index("ix_scoring_queue_enqueued_at", "scoring_queue", ["enqueued_at"])
    with op.batch_alter_table("kobo_assets") as batch:
        batch.add_column(sa.Column("sync_every_minutes", sa.Integer))
    op.create_table(
        "scheduled_jobs",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("schedule", sa.String(100), nullable=False),
        sa.Column("next_run_at", TS),
        sa.Column("last_started_at", TS),
        sa.Column("last_finished_at", TS),
        sa.Column("last_duration_ms", sa.Integer),
        sa.Column("last_outcome", sa.String(16)),
        sa.Column("last_summary", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("running_on", sa.String(200)),
        sa.Column("running_since", TS),
    )
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(200), primary_key=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("beat_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
    op.drop_table("scheduled_jobs")
    with op.batch_alter_table("kobo_assets") as batch:
        batch.drop_column("sync_every_minutes")
    op.drop_index("ix_scoring_queue_enqueued_at", table_name="scoring_queue")
    with op.batch_alter_table("scoring_queue") as batch:
        batch.drop_column("retry_at")
        batch.drop_column("last_error")
        batch.drop_column("attempts")
