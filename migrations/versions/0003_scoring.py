"""Risk scores per site and admin area, with history.

Revision ID: 0003_scoring
Revises: 0002_kobo
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003_scoring"
down_revision = "0002_kobo"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "site_risk_scores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("phase", sa.SmallInteger),
        sa.Column("confidence", sa.String(8)),
        sa.Column("assessment_date", sa.Date),
        sa.Column("catalogue_version", sa.String(32), nullable=False),
        sa.Column("explanation", JSON, nullable=False),
    )
    op.create_index("ix_site_risk_scores_operation_id", "site_risk_scores", ["operation_id"])
    op.create_index("ix_site_risk_scores_site_computed", "site_risk_scores", ["site_id", "computed_at"])
    op.create_index("uq_site_risk_scores_current", "site_risk_scores", ["site_id"], unique=True,
                    postgresql_where=sa.text("is_current"), sqlite_where=sa.text("is_current"))
    op.create_table(
        "admin_area_risk_scores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("admin_area_id", sa.Integer, sa.ForeignKey("admin_areas.id", ondelete="CASCADE"), nullable=False),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("phase", sa.SmallInteger),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("hotspot", sa.Boolean, nullable=False),
        sa.Column("catalogue_version", sa.String(32), nullable=False),
        sa.Column("summary", JSON, nullable=False),
    )
    op.create_index("ix_admin_area_risk_scores_operation_id", "admin_area_risk_scores", ["operation_id"])
    op.create_index("ix_admin_area_risk_scores_area_computed", "admin_area_risk_scores",
                    ["admin_area_id", "computed_at"])
    op.create_index("uq_admin_area_risk_scores_current", "admin_area_risk_scores", ["admin_area_id"], unique=True,
                    postgresql_where=sa.text("is_current"), sqlite_where=sa.text("is_current"))


def downgrade() -> None:
    op.drop_table("admin_area_risk_scores")
    op.drop_table("site_risk_scores")
