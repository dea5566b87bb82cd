"""Indexes for the notification detector (crisis_ct.notifications.detect_*), which asks every
minute for the scores, new tasks and task-history rows of its time window: without them
each question read the whole table, and score and history tables only grow.

Revision ID: 0024_notification_window_indexes
Revises: 0019_offline_client_ids
Create Date: 2026-12-03
"""
from alembic import op

revision = "0024_notification_window_indexes"
down_revision = "0019_offline_client_ids"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_site_risk_scores_computed_at", "site_risk_scores", ["computed_at"]),
    ("ix_admin_area_risk_scores_computed_at", "admin_area_risk_scores", ["computed_at"]),
    ("ix_mitigation_tasks_created_at", "mitigation_tasks", ["created_at"]),
    ("ix_mitigation_task_history_action_at", "mitigation_task_history", ["action", "at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
