"""Mitigation tasks with their claims and history.

Revision ID: 0004_tasks
Revises: 0003_scoring
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004_tasks"
down_revision = "0003_scoring"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
# Same predicate as crisis_ct.tasks.models.OPEN_TASK_PREDICATE.
OPEN_TASK = "status NOT IN ('verified', 'cancelled')"


def upgrade() -> None:
    op.create_table(
        "mitigation_tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("rule_id", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("place_key", sa.String(40), nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE")),
        sa.Column("admin_area_id", sa.Integer, sa.ForeignKey("admin_areas.id", ondelete="CASCADE")),
        sa.Column("sector", sa.String(32), nullable=False),
        sa.Column("title", JSON, nullable=False),
        sa.Column("description", JSON, nullable=False),
        sa.Column("expertise_tags", sa.String(200), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("needs_review", sa.Boolean, nullable=False),
        sa.Column("review_reason", sa.String(64)),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("site_score_id", sa.Integer, sa.ForeignKey("site_risk_scores.id", ondelete="SET NULL")),
        sa.Column("area_score_id", sa.Integer, sa.ForeignKey("admin_area_risk_scores.id", ondelete="SET NULL")),
        sa.Column("assessment_date", sa.Date),
        sa.Column("claimed_by_user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("claimed_at", TS),
        sa.Column("claim_expires_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("scope IN ('site', 'admin_area')", name="ck_mitigation_tasks_scope"),
        sa.CheckConstraint("status IN ('open','claimed','in_progress','done','verified','cancelled')",
                           name="ck_mitigation_tasks_status"),
    )
    # The database, not the generator, guarantees one open task per rule per place.
    op.create_index("uq_mitigation_tasks_open_rule_place", "mitigation_tasks", ["place_key", "rule_id"],
                    unique=True, postgresql_where=sa.text(OPEN_TASK), sqlite_where=sa.text(OPEN_TASK))
    op.create_index("ix_mitigation_tasks_operation_status", "mitigation_tasks", ["operation_id", "status"])
    op.create_index("ix_mitigation_tasks_holder", "mitigation_tasks", ["claimed_by_user_id", "status"])
    op.create_index("ix_mitigation_tasks_claim_expires_at", "mitigation_tasks", ["claim_expires_at"])
    op.create_index("ix_mitigation_tasks_site_id", "mitigation_tasks", ["site_id"])
    op.create_index("ix_mitigation_tasks_admin_area_id", "mitigation_tasks", ["admin_area_id"])
    op.create_table(
        "mitigation_task_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("mitigation_tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("details", JSON, nullable=False),
    )
    op.create_index("ix_mitigation_task_history_task_id", "mitigation_task_history", ["task_id"])


def downgrade() -> None:
    op.drop_table("mitigation_task_history")
    op.drop_table("mitigation_tasks")
