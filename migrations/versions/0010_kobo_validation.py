"""Kobo review and deletions: a submission's validation status and its withdrawal; the
asset's REST Service and how far the sync has read validation-status changes.

- submissions.validation_status: kpi's status uid (`validation_status_approved`,
  `…_not_approved`, `…_on_hold`; NULL when unset); validation_timestamp its Unix time.
  A not-approved submission no longer counts in scores; on hold counts but is flagged.
- submissions.withdrawn_at / withdrawn_reason: the submission is gone from Kobo (deleted
  there): kept with its history, no longer counted.
- kobo_assets.validation_seen_ts: the highest `_validation_status.timestamp` the sync has
  read, so it asks Kobo only for later status changes.
- kobo_assets.hook_uid: the REST Service `crisis-ct kobo setup` registered (`h…`).
- ix_submissions_reviewed: (operation_id, site_id) of reviewed or withdrawn submissions only,
  for the note a score keeps about them (a full re-score must not scan every payload).

Revision ID: 0010_kobo_validation
Revises: 0009_kobo_versions
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

REVIEWED_WHERE = "withdrawn_at IS NOT NULL OR validation_status IS NOT NULL"

revision = "0010_kobo_validation"
down_revision = "0009_kobo_versions"  # re-chained after merging kobo-versions (brief: 0008)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("validation_status", sa.String(40), nullable=True))
        batch.add_column(sa.Column("validation_timestamp", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("withdrawn_reason", sa.String(40), nullable=True))
    op.create_index("ix_submissions_reviewed", "submissions", ["operation_id", "site_id"],
                    postgresql_where=sa.text(REVIEWED_WHERE), sqlite_where=sa.text(REVIEWED_WHERE))
    with op.batch_alter_table("kobo_assets") as batch:
        batch.add_column(sa.Column("validation_seen_ts", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("hook_uid", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kobo_assets") as batch:
        batch.drop_column("hook_uid")
        batch.drop_column("validation_seen_ts")
    op.drop_index("ix_submissions_reviewed", table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("withdrawn_reason")
        batch.drop_column("withdrawn_at")
        batch.drop_column("validation_timestamp")
        batch.drop_column("validation_status")
