"""Invitations: one-time links (stored as a SHA-256) for a person to set their password.

Revision ID: 0015_invitations
Revises: 0014_accounts_sessions
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_invitations"
# After 0014 (merged into this branch from accounts-cli); the integrator re-chains.
down_revision = "0014_accounts_sessions"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE",
                                                       name="fk_invitations_user_id_users"), nullable=False),
        sa.Column("operation_id", sa.Integer, sa.ForeignKey("operations.id", ondelete="CASCADE",
                                                            name="fk_invitations_operation_id_operations"),
                  nullable=False),
        sa.Column("invited_by", sa.String(254), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("accepted_at", TS),
        sa.Column("revoked_at", TS),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_index("ix_invitations_user_id", "invitations", ["user_id"])
    op.create_index("ix_invitations_operation_id", "invitations", ["operation_id"])


def downgrade() -> None:
    op.drop_index("ix_invitations_operation_id", table_name="invitations")
    op.drop_index("ix_invitations_user_id", table_name="invitations")
    op.drop_table("invitations")
