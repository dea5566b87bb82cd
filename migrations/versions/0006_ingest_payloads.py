"""Bulk import writes less per submission.

- submissions.answers and submission_versions.raw become `json` (text) on PostgreSQL
  instead of `jsonb`: nothing queries inside them (scoring reads whole answer documents,
  the API returns raw payloads whole), `json` keeps the received text verbatim (jsonb
  reorders keys and drops duplicates), and COPY writes it without building the binary form
  (measured: the two payloads were a third of the server's time per imported submission).
  On SQLite both are JSON text already: nothing to do there.
- ix_submissions_operation_id goes: the unique (operation_id, chain_key) index leads with
  the same column and serves every lookup by operation.
- submissions.operation_id loses its foreign key (a check per imported row): the row's
  asset belongs to that operation and its foreign key (ON DELETE CASCADE) already
  removes the submissions of a deleted operation's assets.
- ix_submission_versions_deprecated_id only holds edits (deprecated_id IS NOT NULL): the
  only lookup is by given ids, and a first version (nearly every row) has none.

Revision ID: 0006_ingest_payloads
Revises: 0005_map_columns
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_ingest_payloads"
down_revision = "0005_map_columns"
branch_labels = None
depends_on = None

_PAYLOADS = (("submissions", "answers"), ("submission_versions", "raw"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column in _PAYLOADS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE json USING {column}::json")
    op.drop_index("ix_submissions_operation_id", table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("fk_submissions_operation_id_operations", type_="foreignkey")
    op.drop_index("ix_submission_versions_deprecated_id", table_name="submission_versions")
    op.create_index("ix_submission_versions_deprecated_id", "submission_versions", ["deprecated_id"],
                    postgresql_where=sa.text("deprecated_id IS NOT NULL"),
                    sqlite_where=sa.text("deprecated_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_submission_versions_deprecated_id", table_name="submission_versions")
    op.create_index("ix_submission_versions_deprecated_id", "submission_versions", ["deprecated_id"])
    with op.batch_alter_table("submissions") as batch:
        batch.create_foreign_key("fk_submissions_operation_id_operations", "operations", ["operation_id"], ["id"],
                                 ondelete="CASCADE")
    op.create_index("ix_submissions_operation_id", "submissions", ["operation_id"])
    if op.get_bind().dialect.name == "postgresql":
        for table, column in _PAYLOADS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE jsonb USING {column}::jsonb")
