"""Mitigation tasks, their claims and their history.

A task belongs to one place: a site or an admin area. `place_key` ('site:12', 'area:5') is
never NULL so the partial unique index "one open task per rule per place" works on both
databases (a unique index treats NULLs as distinct on PostgreSQL and SQLite alike).

The claim lives on the task row itself (holder, claimed_at, claim_expires_at): at most one
holder per task is then a property of the row, and a claim is a conditional UPDATE whose
rowcount says who won (see crisis_ct.tasks.claims).
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crisis_ct.db import Base
from crisis_ct.timeutil import utcnow
from crisis_ct.types import JSONType, UTCDateTime

# Statuses in which a task still counts as "the" task of its rule at its place; must match
# crisis_ct.tasks.states.FINAL_STATES (the complement) and the migration's index predicate.
OPEN_TASK_PREDICATE = "status NOT IN ('verified', 'cancelled')"


class MitigationTask(Base):
    __tablename__ = "mitigation_tasks"
    __table_args__ = (
        sa.Index("uq_mitigation_tasks_open_rule_place", "place_key", "rule_id", unique=True,
                 postgresql_where=sa.text(OPEN_TASK_PREDICATE), sqlite_where=sa.text(OPEN_TASK_PREDICATE)),
        sa.Index("ix_mitigation_tasks_operation_status", "operation_id", "status"),
        sa.Index("ix_mitigation_tasks_holder", "claimed_by_user_id", "status"),
        sa.Index("ix_mitigation_tasks_claim_expires_at", "claim_expires_at"),
        sa.CheckConstraint("scope IN ('site', 'admin_area')", name="scope"),
        sa.CheckConstraint(
            "status IN ('open','claimed','in_progress','done','verified','cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(sa.String(16))
    scope: Mapped[str] = mapped_column(sa.String(16))
    place_key: Mapped[str] = mapped_column(sa.String(40))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    admin_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_areas.id", ondelete="CASCADE"),
                                                      index=True)
    sector: Mapped[str] = mapped_column(sa.String(32))
    # Snapshot of the rule's texts: a task keeps its wording if the rules file changes later.
    title: Mapped[dict] = mapped_column(JSONType)
    description: Mapped[dict] = mapped_column(JSONType)
    # " CT CP " (space-delimited, padded): `LIKE '% CP %'` filters the same on both databases.
    expertise_tags: Mapped[str] = mapped_column(sa.String(200))
    priority: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    needs_review: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    review_reason: Mapped[str | None] = mapped_column(sa.String(64))
    evidence: Mapped[list] = mapped_column(JSONType, default=list)  # [{kind, id, value}]
    site_score_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("site_risk_scores.id", ondelete="SET NULL"))
    area_score_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_area_risk_scores.id", ondelete="SET NULL"))
    assessment_date: Mapped[date | None] = mapped_column(sa.Date)
    claimed_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def expertise(self) -> list[str]:
        return self.expertise_tags.split()

    @property
    def score_id(self) -> int | None:
        return self.site_score_id if self.scope == "site" else self.area_score_id


def expertise_column_value(tags) -> str:
    return " " + " ".join(tags) + " "


def place_key(scope: str, place_id: int) -> str:
    return f"{'site' if scope == 'site' else 'area'}:{place_id}"


class TaskHistory(Base):
    """One row per transition or generator event; never updated."""

    __tablename__ = "mitigation_task_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("mitigation_tasks.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
