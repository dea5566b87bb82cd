"""Kobo: assets, form versions, submissions with history, quarantine, scoring queue.

Revision ID: 0002_kobo
Revises: 0001_foundation
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002_kobo"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kobo_assets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("asset_uid", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("server_url", sa.String(300)),
        sa.Column("token_env", sa.String(100)),
        sa.Column("token_encrypted", sa.Text),
        sa.Column("highest_kobo_id", sa.BigInteger),
        sa.Column("last_sync_at", TS),
        sa.Column("last_sync_status", sa.String(32)),
        sa.Column("last_sync_summary", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_kobo_assets_operation_id", "kobo_assets", ["operation_id"])
    op.create_table(
        "kobo_form_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("asset_id", sa.Integer, sa.ForeignKey("kobo_assets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.UniqueConstraint("asset_id", "version", name="uq_kobo_form_versions_asset_id"),
    )
    op.create_index("ix_kobo_form_versions_asset_id", "kobo_form_versions", ["asset_id"])
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("asset_id", sa.Integer, sa.ForeignKey("kobo_assets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("chain_key", sa.String(160), nullable=False),
        sa.Column("kobo_id", sa.BigInteger),
        sa.Column("instance_id", sa.String(100), nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
        sa.Column("matched_by", sa.String(16), nullable=False),
        sa.Column("assessment_date", sa.Date, nullable=False),
        sa.Column("submitted_at", TS),
        sa.Column("ki_role", sa.String(32)),
        sa.Column("ki_sex", sa.String(16)),
        sa.Column("form_version", sa.String(100)),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("version_count", sa.Integer, nullable=False),
        sa.Column("received_via", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("operation_id", "chain_key", name="uq_submissions_operation_id"),
    )
    op.create_index("ix_submissions_operation_id", "submissions", ["operation_id"])
    op.create_index("ix_submissions_site_date", "submissions", ["site_id", "assessment_date"])
    op.create_index("ix_submissions_asset_kobo_id", "submissions", ["asset_id", "kobo_id"])
    op.create_table(
        "submission_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("instance_id", sa.String(100), nullable=False, unique=True),
        sa.Column("deprecated_id", sa.String(100)),
        sa.Column("raw", JSON, nullable=False),
        sa.Column("received_via", sa.String(16), nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_index("ix_submission_versions_submission_id", "submission_versions", ["submission_id"])
    op.create_index("ix_submission_versions_deprecated_id", "submission_versions", ["deprecated_id"])
    op.create_table(
        "quarantined_submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE")),
        sa.Column("asset_uid", sa.String(64)),
        sa.Column("instance_id", sa.String(100), unique=True),
        sa.Column("kobo_id", sa.BigInteger),
        sa.Column("reason_code", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", JSON, nullable=False),
        sa.Column("received_via", sa.String(16), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolved_at", TS),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id", ondelete="SET NULL")),
    )
    op.create_index("ix_quarantined_submissions_operation_id", "quarantined_submissions", ["operation_id"])
    op.create_index("ix_quarantined_submissions_status", "quarantined_submissions", ["status"])
    op.create_table(
        "scoring_queue",
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("enqueued_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("scoring_queue", "quarantined_submissions", "submission_versions", "submissions",
                  "kobo_form_versions", "kobo_assets"):
        op.drop_table(table)
