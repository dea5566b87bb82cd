"""Area tasks list the sites that triggered them, and closed tasks say when they were closed.

An action one team delivers across many sites (an awareness campaign, legal-aid sessions,
advocacy, a training) is ONE task per admin area (forms/mitigation_rules.yaml, `task_per`);
`mitigation_task_sites` holds the sites that triggered it, each with its evidence, priority and
assessment date, so a site leaving is one deleted row rather than a rewrite of a list, and a
re-score of one site touches only its own rows.

`closed_at` is when a task became verified or cancelled: a closed task is re-opened only by
evidence newer than its closing (issue 12, item 6). Tasks closed before this migration take
their last update, which is when they were closed (a final task is never updated again).

Revision ID: 0012_area_tasks
Revises: 0011_scoring_trust
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012_area_tasks"
down_revision = "0011_scoring_trust"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mitigation_task_sites",
        sa.Column("task_id", sa.Integer, sa.ForeignKey("mitigation_tasks.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("assessment_date", sa.Date),
        sa.Column("site_score_id", sa.Integer),
        sa.Column("added_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_mitigation_task_sites_site_id", "mitigation_task_sites", ["site_id"])
    with op.batch_alter_table("mitigation_tasks") as batch:
        batch.add_column(sa.Column("closed_at", TS))
    op.execute("UPDATE mitigation_tasks SET closed_at = updated_at WHERE status IN ('verified', 'cancelled')")


def downgrade() -> None:
    with op.batch_alter_table("mitigation_tasks") as batch:
        batch.drop_column("closed_at")
    op.drop_index("ix_mitigation_task_sites_site_id", table_name="mitigation_task_sites")
    op.drop_table("mitigation_task_sites")
