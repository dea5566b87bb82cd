"""Users get an organisation: the "who" of the 4W (who does what, where, when).

Revision ID: 0020_organisation
Revises: 0008_score_compression
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_organisation"
down_revision = "0008_score_compression"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("organisation", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("organisation")
