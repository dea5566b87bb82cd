"""Mitigation tasks, their claims and their history.

A task belongs to one place: a site or an admin area. `place_key` ('site:12', 'area:5') is
never NULL so the partial unique index "one open task per rule per place" works on both
databases (a unique index treats NULLs as distinct on PostgreSQL and SQLite alike).

The claim lives on the task row itself (holder, claimed_at, claim_expires_at): at most one
holder per task is then a property of the row, and a claim is a conditional UPDATE whose
rowcount says who won (see crisis_ct.tasks.claims).
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis_ct.db import Base
from crisis_ct.timeutil import utcnow
from crisis_ct.types import JSONType, UTCDateTime

# Statuses in which a task still counts as "the" task of its rule at its place; must match
# crisis_ct.tasks.states.FINAL_STATES (the complement) and the migration's index predicate.
OPEN_TASK_PREDICATE = "status NOT IN ('verified', 'cancelled')"


def _partial(condition: str) -> dict:
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


class MitigationRuleText(Base):
    """A rule's EN/FR title and description as tasks were created with them: one row per
    distinct wording, never updated, so a task keeps its text when the rules file changes."""

    __tablename__ = "mitigation_rule_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(sa.String(16))
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)  # rule_text_digest(...)
    title: Mapped[dict] = mapped_column(JSONType)
    description: Mapped[dict] = mapped_column(JSONType)


def rule_text_digest(rule_id: str, title: dict, description: dict) -> str:
    # Migration 0007 keeps a frozen copy of this function: change both or neither.
    canonical = json.dumps([rule_id, title, description], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class MitigationTask(Base):
    __tablename__ = "mitigation_tasks"
    __table_args__ = (
        sa.Index("uq_mitigation_tasks_open_rule_place", "place_key", "rule_id", unique=True,
                 **_partial(OPEN_TASK_PREDICATE)),
        sa.Index("ix_mitigation_tasks_operation_status", "operation_id", "status"),
        # Mostly NULL columns that queries only ever ask for a value of (see migration 0007).
        sa.Index("ix_mitigation_tasks_holder", "claimed_by_user_id", "status",
                 **_partial("claimed_by_user_id IS NOT NULL")),
        sa.Index("ix_mitigation_tasks_claim_expires_at", "claim_expires_at",
                 **_partial("claim_expires_at IS NOT NULL")),
        sa.Index("ix_mitigation_tasks_admin_area_id", "admin_area_id", **_partial("admin_area_id IS NOT NULL")),
        sa.Index("ix_mitigation_tasks_created_at", "created_at"),  # new tasks of the notification window
        sa.CheckConstraint("scope IN ('site', 'admin_area')", name="scope"),
        sa.CheckConstraint(
            "status IN ('open','claimed','in_progress','done','verified','cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key on operation_id and the score ids (migration 0007 says why): a copy of the
    # place's operation for filtering, and the score that last triggered the task.
    operation_id: Mapped[int] = mapped_column()
    rule_id: Mapped[str] = mapped_column(sa.String(16))
    scope: Mapped[str] = mapped_column(sa.String(16))
    place_key: Mapped[str] = mapped_column(sa.String(40))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    admin_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_areas.id", ondelete="CASCADE"))
    sector: Mapped[str] = mapped_column(sa.String(32))
    # No foreign key (migration 0007): text rows are never deleted, and the generator takes
    # the id from that table in the same transaction.
    rule_text_id: Mapped[int] = mapped_column()
    # Thirty-odd rows for every task: joined in the same query rather than loaded one by one.
    rule_text: Mapped[MitigationRuleText] = relationship(
        primaryjoin="foreign(MitigationTask.rule_text_id) == MitigationRuleText.id", lazy="joined", innerjoin=True,
        viewonly=True)
    # " CT CP " (space-delimited, padded): `LIKE '% CP %'` filters the same on both databases.
    expertise_tags: Mapped[str] = mapped_column(sa.String(200))
    priority: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    needs_review: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    review_reason: Mapped[str | None] = mapped_column(sa.String(64))
    evidence: Mapped[list] = mapped_column(JSONType, default=list)  # [{kind, id, value}]
    site_score_id: Mapped[int | None] = mapped_column()
    area_score_id: Mapped[int | None] = mapped_column()
    assessment_date: Mapped[date | None] = mapped_column(sa.Date)
    claimed_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When it became verified or cancelled: only evidence newer than this re-opens its rule there.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def title(self) -> dict:
        return self.rule_text.title

    @property
    def description(self) -> dict:
        return self.rule_text.description

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


class TaskSite(Base):
    """A site that triggered an area task (a rule with `task_per: admN`): one row per site,
    removed when a re-score of the site no longer triggers the rule there. The rows of a
    closed task stay as the record of what it covered."""

    __tablename__ = "mitigation_task_sites"

    task_id: Mapped[int] = mapped_column(sa.ForeignKey("mitigation_tasks.id", ondelete="CASCADE"),
                                         primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    priority: Mapped[str] = mapped_column(sa.String(8))  # what the rule gives at this site
    evidence: Mapped[list] = mapped_column(JSONType, default=list)
    assessment_date: Mapped[date | None] = mapped_column(sa.Date)
    site_score_id: Mapped[int | None] = mapped_column()
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskHistory(Base):
    """One row per transition or generator event; never updated."""

    __tablename__ = "mitigation_task_history"
    # The notification detector asks every minute for one action's rows of its window.
    __table_args__ = (sa.Index("ix_mitigation_task_history_action_at", "action", "at"),)

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


class AppliedClientRequest(Base):
    """A progress note or completion sent with a client-generated id (the /my page makes one
    per note written, online or offline), applied once: a resend of the same id is answered
    with `response`, the task JSON the first request returned, and changes nothing.
    Keyed per user, so one person's ids can never collide with another's."""

    __tablename__ = "applied_client_requests"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)  # a UUID, lower case
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("mitigation_tasks.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(sa.String(16))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    response: Mapped[dict | None] = mapped_column(JSONType)
