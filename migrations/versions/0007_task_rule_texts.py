"""Tasks point at their rule's wording instead of each carrying a copy of it, the task
indexes that mostly hold NULLs become partial, and three foreign keys that guarded nothing
the site and area keys do not already guard are dropped (rule_text_id gets none either).

A full re-score creates ~130,000 tasks for 10,000 sites; copying a rule's EN/FR title and
description into every one of them made the wording most of what task generation wrote.
The wording is still a snapshot: `mitigation_rule_texts` keeps each distinct wording once
(keyed by a digest of rule id, title and description) and is never updated, so a task keeps
the text it was created with when forms/mitigation_rules.yaml changes later.

Task generation writes ~130,000 rows at the first scoring of 10,000 sites, and on PostgreSQL
every foreign key costs a lookup and a row lock per inserted row (measured: more than half of
the server's work). tasks.operation_id is a copy of its site's or area's operation kept for
filtering, and the site / area keys already cascade an operation's deletion to its tasks;
site_score_id / area_score_id point at the score that last triggered the task, and scores are
history, deleted only with their site or area (whose tasks go with them).

Revision ID: 0007_task_rule_texts
Revises: 0006_ingest_payloads
Create Date: 2026-11-25
"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007_task_rule_texts"
down_revision = "0006_ingest_payloads"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
OPEN_TASK = "status NOT IN ('verified', 'cancelled')"
TASK_INDEXES = ("uq_mitigation_tasks_open_rule_place", "ix_mitigation_tasks_operation_status",
                "ix_mitigation_tasks_holder", "ix_mitigation_tasks_claim_expires_at",
                "ix_mitigation_tasks_site_id", "ix_mitigation_tasks_admin_area_id")


UNGUARDED = (("operation_id", "operations"), ("site_score_id", "site_risk_scores"),
             ("area_score_id", "admin_area_risk_scores"))
# Migration 0004's foreign keys were named by the project's naming convention (alembic's
# env.py passes it); batch mode on SQLite needs it spelled out to find them.
_BATCH_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _fk_name(column: str, referred: str) -> str:
    return f"fk_mitigation_tasks_{column}_{referred}"


def text_digest(rule_id: str, title: dict, description: dict) -> str:
    # Frozen copy of crisis_ct.tasks.models.rule_text_digest: migrations never import the app.
    canonical = json.dumps([rule_id, title, description], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def upgrade() -> None:
    texts = op.create_table(
        "mitigation_rule_texts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rule_id", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("title", JSON, nullable=False),
        sa.Column("description", JSON, nullable=False),
    )
    for name in TASK_INDEXES:
        op.drop_index(name, table_name="mitigation_tasks")
    with op.batch_alter_table("mitigation_tasks", naming_convention=_BATCH_NAMES) as batch:
        for column, referred in UNGUARDED:
            batch.drop_constraint(_fk_name(column, referred), type_="foreignkey")
        # No foreign key: the rows are never deleted or changed, and the generator takes the id
        # from the table in the same transaction; checking it per task cost as much as an index.
        batch.add_column(sa.Column("rule_text_id", sa.Integer))

    bind = op.get_bind()
    tasks = sa.table("mitigation_tasks", sa.column("id", sa.Integer), sa.column("rule_id", sa.String),
                     sa.column("title", JSON), sa.column("description", JSON),
                     sa.column("rule_text_id", sa.Integer))
    ids_by_digest: dict[str, int] = {}
    updates = []
    for task_id, rule_id, title, description in bind.execute(
            sa.select(tasks.c.id, tasks.c.rule_id, tasks.c.title, tasks.c.description)).all():
        digest = text_digest(rule_id, title, description)
        if digest not in ids_by_digest:
            ids_by_digest[digest] = bind.execute(sa.insert(texts).values(
                rule_id=rule_id, digest=digest, title=title, description=description).returning(texts.c.id)).scalar_one()
        updates.append({"b_id": task_id, "b_text": ids_by_digest[digest]})
    if updates:
        bind.execute(sa.update(tasks).where(tasks.c.id == sa.bindparam("b_id"))
                     .values(rule_text_id=sa.bindparam("b_text")), updates)

    with op.batch_alter_table("mitigation_tasks") as batch:
        batch.drop_column("title")
        batch.drop_column("description")
        batch.alter_column("rule_text_id", existing_type=sa.Integer, nullable=False)
    _create_task_indexes(partial=True)


def _create_task_indexes(*, partial: bool) -> None:
    def where(condition: str) -> dict:
        return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)} if partial else {}

    # The database, not the generator, guarantees one open task per rule per place.
    op.create_index("uq_mitigation_tasks_open_rule_place", "mitigation_tasks", ["place_key", "rule_id"],
                    unique=True, postgresql_where=sa.text(OPEN_TASK), sqlite_where=sa.text(OPEN_TASK))
    op.create_index("ix_mitigation_tasks_operation_status", "mitigation_tasks", ["operation_id", "status"])
    op.create_index("ix_mitigation_tasks_site_id", "mitigation_tasks", ["site_id"])
    # Most tasks are unclaimed site tasks: these three columns are NULL in most rows, and a
    # query on them always asks for a value, so the NULLs need no index entries.
    op.create_index("ix_mitigation_tasks_holder", "mitigation_tasks", ["claimed_by_user_id", "status"],
                    **where("claimed_by_user_id IS NOT NULL"))
    op.create_index("ix_mitigation_tasks_claim_expires_at", "mitigation_tasks", ["claim_expires_at"],
                    **where("claim_expires_at IS NOT NULL"))
    op.create_index("ix_mitigation_tasks_admin_area_id", "mitigation_tasks", ["admin_area_id"],
                    **where("admin_area_id IS NOT NULL"))


def downgrade() -> None:
    for name in TASK_INDEXES:
        op.drop_index(name, table_name="mitigation_tasks")
    with op.batch_alter_table("mitigation_tasks") as batch:
        batch.add_column(sa.Column("title", JSON))
        batch.add_column(sa.Column("description", JSON))
    bind = op.get_bind()
    texts = sa.table("mitigation_rule_texts", sa.column("id", sa.Integer), sa.column("title", JSON),
                     sa.column("description", JSON))
    tasks = sa.table("mitigation_tasks", sa.column("id", sa.Integer), sa.column("rule_text_id", sa.Integer),
                     sa.column("title", JSON), sa.column("description", JSON))
    for text_id, title, description in bind.execute(sa.select(texts.c.id, texts.c.title, texts.c.description)).all():
        bind.execute(sa.update(tasks).where(tasks.c.rule_text_id == text_id)
                     .values(title=title, description=description))
    with op.batch_alter_table("mitigation_tasks") as batch:
        batch.create_foreign_key("fk_mitigation_tasks_operation_id_operations", "operations",
                                 ["operation_id"], ["id"], ondelete="CASCADE")
        batch.create_foreign_key("fk_mitigation_tasks_site_score_id_site_risk_scores", "site_risk_scores",
                                 ["site_score_id"], ["id"], ondelete="SET NULL")
        batch.create_foreign_key("fk_mitigation_tasks_area_score_id_admin_area_risk_scores",
                                 "admin_area_risk_scores", ["area_score_id"], ["id"], ondelete="SET NULL")
        batch.drop_column("rule_text_id")
        batch.alter_column("title", existing_type=JSON, nullable=False)
        batch.alter_column("description", existing_type=JSON, nullable=False)
    op.drop_table("mitigation_rule_texts")
    _create_task_indexes(partial=False)
