"""The admin areas whose sites' scores changed since the area was scored: the drain writes
site scores in short batches and re-scores the areas above them later, in short
transactions of their own (crisis_ct.scoring.area_queue).

Revision ID: 0021_area_scoring_queue
Revises: 0017_service_providers
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_area_scoring_queue"
down_revision = "0017_service_providers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "area_scoring_queue",
        sa.Column("admin_area_id", sa.Integer, sa.ForeignKey("admin_areas.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("scored_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("area_scoring_queue")
