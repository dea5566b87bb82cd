"""Accounts: disabled users, organisation, an unset preferred language, tokens for one
operation, server-side web sessions, and atomic sign-in counters.

Revision ID: 0014_accounts_sessions
Revises: 0012_area_tasks
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_accounts_sessions"
down_revision = "0012_area_tasks"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch copy of `users` on SQLite would drop the table that
    # memberships and tokens reference (ON DELETE CASCADE).
    op.add_column("users", sa.Column("disabled_at", TS))
    op.add_column("users", sa.Column("organisation", sa.String(200)))
    op.add_column("users", sa.Column("preferred_language", sa.String(8)))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("operation_id", sa.Integer))
        batch.create_foreign_key("fk_api_tokens_operation_id_operations", "operations", ["operation_id"], ["id"],
                                 ondelete="CASCADE")
        batch.create_index("ix_api_tokens_operation_id", ["operation_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("ended_at", TS),
        sa.Column("ended_reason", sa.String(32)),
        sa.PrimaryKeyConstraint("id_hash", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "login_counters",
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("window_started_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_login_counters"),
    )


def downgrade() -> None:
    op.drop_table("login_counters")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index("ix_api_tokens_operation_id")
        batch.drop_constraint("fk_api_tokens_operation_id_operations", type_="foreignkey")
        batch.drop_column("operation_id")
    for column in ("preferred_language", "organisation", "disabled_at"):
        op.drop_column("users", column)
