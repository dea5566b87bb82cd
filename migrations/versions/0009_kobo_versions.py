"""Kobo form versions matched without a server, and the quarantine's retry bookkeeping.

- kobo_form_versions.matched_to: a kpi version uid seen on a project with no server
  connection whose answers all fit a registered version; the row holds that version's
  content and names it, so later submissions of the uid are read at once.
- quarantined_submissions.last_attempt_at: when the submission was last tried (the worker's
  automatic replay backs off by it); details: structured facts behind the reason (nearest
  known sites, unknown questions), shown by the quarantine list.

Revision ID: 0009_kobo_versions
Revises: 0008_score_compression
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009_kobo_versions"
down_revision = "0008_score_compression"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("kobo_form_versions") as batch:
        batch.add_column(sa.Column("matched_to", sa.String(100)))
    with op.batch_alter_table("quarantined_submissions") as batch:
        batch.add_column(sa.Column("last_attempt_at", TS))
        batch.add_column(sa.Column("details", JSON))


def downgrade() -> None:
    with op.batch_alter_table("quarantined_submissions") as batch:
        batch.drop_column("details")
        batch.drop_column("last_attempt_at")
    with op.batch_alter_table("kobo_form_versions") as batch:
        batch.drop_column("matched_to")
