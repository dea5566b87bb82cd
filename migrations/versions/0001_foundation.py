"""Foundation: operations, geography, people, tokens, audit log.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from crisis_ct.spatial_ddl import add_geometry, drop_geometry, enable_spatial

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    enable_spatial()
    op.create_table(
        "operations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country_iso3", sa.String(3), nullable=False),
        sa.Column("languages", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "admin_areas",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("pcode", sa.String(32), nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("name_en", sa.String(200)),
        sa.Column("name_fr", sa.String(200)),
        sa.Column("parent_pcode", sa.String(32)),
        sa.Column("valid_on", sa.Date),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("operation_id", "pcode", name="uq_admin_areas_operation_id_pcode"),
    )
    op.create_index("ix_admin_areas_operation_id", "admin_areas", ["operation_id"])
    op.create_index("ix_admin_areas_level", "admin_areas", ["operation_id", "level"])
    add_geometry("admin_areas", "geom", "MULTIPOLYGON")
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("site_code", sa.String(64), nullable=False),
        sa.Column("site_code_source", sa.String(32)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("site_type", sa.String(32), nullable=False),
        sa.Column("population_individuals", sa.Integer),
        sa.Column("population_households", sa.Integer),
        sa.Column("adm1_pcode", sa.String(32)),
        sa.Column("adm2_pcode", sa.String(32)),
        sa.Column("adm3_pcode", sa.String(32)),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("operation_id", "site_code", name="uq_sites_operation_id_site_code"),
    )
    op.create_index("ix_sites_operation_id", "sites", ["operation_id"])
    for level in (1, 2, 3):
        op.create_index(f"ix_sites_adm{level}_pcode", "sites", [f"adm{level}_pcode"])
    add_geometry("sites", "geom", "POINT")
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("languages", JSON, nullable=False),
        sa.Column("expertise", JSON, nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.UniqueConstraint("user_id", "operation_id", name="uq_memberships_user_id"),
        sa.CheckConstraint(
            "role IN ('admin','coordinator','expert','viewer','submitter')", name="ck_memberships_role"
        ),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_index("ix_memberships_operation_id", "memberships", ["operation_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="SET NULL")),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(64)),
        sa.Column("target_id", sa.String(64)),
        sa.Column("details", JSON, nullable=False),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_action", "audit_events", ["action"])


def downgrade() -> None:
    for table in ("audit_events", "api_tokens", "memberships", "users"):
        op.drop_table(table)
    drop_geometry("sites", "geom")
    op.drop_table("sites")
    drop_geometry("admin_areas", "geom")
    op.drop_table("admin_areas")
    op.drop_table("operations")
