"""The referral directory: service providers of an operation (issue 17).

Revision ID: 0017_service_providers
Revises: 0018_notifications
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from crisis_ct.spatial_ddl import add_geometry, drop_geometry

revision = "0017_service_providers"
down_revision = "0018_notifications"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "service_providers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("service_types", sa.String(500), nullable=False),
        sa.Column("area_pcodes", sa.String(2000), nullable=False),
        sa.Column("service_point_name", sa.String(200)),
        sa.Column("languages", JSON, nullable=False),
        sa.Column("opening_hours", sa.String(200)),
        sa.Column("focal_point_role", sa.String(200)),
        sa.Column("office_phone", sa.String(40)),
        sa.Column("office_email", sa.String(254)),
        sa.Column("referral_requirements", sa.String(1000)),
        sa.Column("last_verified_on", sa.Date),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("operation_id", "code", name="uq_service_providers_operation_id_code"),
    )
    op.create_index("ix_service_providers_operation_id", "service_providers", ["operation_id"])
    add_geometry("service_providers", "geom", "POINT")


def downgrade() -> None:
    drop_geometry("service_providers", "geom")
    op.drop_index("ix_service_providers_operation_id", table_name="service_providers")
    op.drop_table("service_providers")
