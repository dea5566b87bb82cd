"""site_risk_scores.recency: the recency class a score was computed with.

Confidence is aged when a site is scored; the read path must age it again only when the
calendar has moved the site into another class since (issue 12: it aged it a second
time), and the daily re-score (crisis_ct.scoring.service.rescore_aged) finds the sites
whose class changed by comparing this column with today's class. Existing rows take the
value their explanation already holds.

Revision ID: 0011_scoring_trust
Revises: 0010_kobo_validation
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_scoring_trust"
down_revision = "0010_kobo_validation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("site_risk_scores", sa.Column("recency", sa.String(8), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE site_risk_scores SET recency = explanation ->> 'recency'")
    else:
        op.execute("UPDATE site_risk_scores SET recency = json_extract(explanation, '$.recency')")


def downgrade() -> None:
    with op.batch_alter_table("site_risk_scores") as batch:
        batch.drop_column("recency")
