"""Site scores keep their domain phases in a column of their own, so the map's GeoJSON
reads a few bytes per site instead of the whole explanation.

Revision ID: 0005_map_columns
Revises: 0004_tasks
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005_map_columns"
down_revision = "0004_tasks"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("site_risk_scores", sa.Column("domain_phases", JSON))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE site_risk_scores SET domain_phases = explanation -> 'domain_phases'")
    else:
        op.execute("UPDATE site_risk_scores SET domain_phases = json_extract(explanation, '$.domain_phases')")


def downgrade() -> None:
    with op.batch_alter_table("site_risk_scores") as batch:
        batch.drop_column("domain_phases")
