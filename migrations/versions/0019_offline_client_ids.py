"""Progress notes and completions sent from a phone that was offline carry a
client-generated id; the first request with an id is applied and its answer kept, a resend
gets that answer back (crisis_ct.tasks.client_requests).

Revision ID: 0019_offline_client_ids
Revises: 0021_area_scoring_queue
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0019_offline_client_ids"
down_revision = "0021_area_scoring_queue"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "applied_client_requests",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("client_id", sa.String(36), primary_key=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("mitigation_tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("applied_at", TS, nullable=False),
        sa.Column("response", JSON),
    )
    op.create_index("ix_applied_client_requests_task_id", "applied_client_requests", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_applied_client_requests_task_id", table_name="applied_client_requests")
    op.drop_table("applied_client_requests")
