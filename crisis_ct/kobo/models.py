"""Kobo projects, stored submissions with their edit history, and the quarantine."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crisis_ct.db import Base
from crisis_ct.timeutil import utcnow
from crisis_ct.types import JSONType, UTCDateTime

# Submission payloads are `json` (the text as written) on PostgreSQL, not jsonb: nothing
# queries inside them, the raw payload stays verbatim, and bulk COPY writes them without
# building jsonb's binary form (migration 0006).
PayloadJSON = sa.JSON()
# The partial index's condition; scoring/counted.review_notes asks with the same words so
# that both databases use it.
REVIEWED_WHERE = "withdrawn_at IS NOT NULL OR validation_status IS NOT NULL"


class KoboAsset(Base):
    """A Kobo project ("asset") whose submissions belong to one operation."""

    __tablename__ = "kobo_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    asset_uid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    server_url: Mapped[str | None] = mapped_column(sa.String(300))
    # The API token is either named by an environment variable or stored encrypted.
    token_env: Mapped[str | None] = mapped_column(sa.String(100))
    token_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    highest_kobo_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sync_status: Mapped[str | None] = mapped_column(sa.String(32))
    last_sync_summary: Mapped[dict] = mapped_column(JSONType, default=dict)
    # Minutes between scheduled syncs of this project (None: CRISIS_CT_KOBO_SYNC_MINUTES).
    sync_every_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    # The highest `_validation_status.timestamp` (Unix seconds) the sync has read.
    validation_seen_ts: Mapped[int | None] = mapped_column(sa.BigInteger)
    # The REST Service (`h…`) that `crisis-ct kobo setup` registered on the project.
    hook_uid: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KoboFormVersion(Base):
    """One deployed version of the form, as Kobo's asset `content` (or the XLSForm)."""

    __tablename__ = "kobo_form_versions"
    __table_args__ = (sa.UniqueConstraint("asset_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(sa.ForeignKey("kobo_assets.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(sa.String(100))
    content: Mapped[dict] = mapped_column(JSONType)
    # Set on a uid that no server told us about: the registered version whose questions and
    # choices all its answers fit (kpi makes a new uid for every content change, a label fix
    # included, so a project without a server connection sees new uids after each redeploy).
    matched_to: Mapped[str | None] = mapped_column(sa.String(100))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Submission(Base):
    """One key-informant interview: the current version of a Kobo edit chain."""

    __tablename__ = "submissions"
    __table_args__ = (
        sa.UniqueConstraint("operation_id", "chain_key"),
        sa.Index("ix_submissions_site_date", "site_id", "assessment_date"),
        sa.Index("ix_submissions_asset_kobo_id", "asset_id", "kobo_id"),
        # Only reviewed or withdrawn submissions (few): what a score's review note reads.
        sa.Index("ix_submissions_reviewed", "operation_id", "site_id",
                 postgresql_where=sa.text(REVIEWED_WHERE), sqlite_where=sa.text(REVIEWED_WHERE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (operation_id, chain_key) leads with it. No foreign
    # key either (a check per imported row): the asset's, with its cascade, covers it.
    operation_id: Mapped[int] = mapped_column(sa.Integer)
    asset_id: Mapped[int] = mapped_column(sa.ForeignKey("kobo_assets.id", ondelete="CASCADE"))
    chain_key: Mapped[str] = mapped_column(sa.String(160))
    kobo_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    instance_id: Mapped[str] = mapped_column(sa.String(100))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    matched_by: Mapped[str] = mapped_column(sa.String(16))  # site_id | location
    assessment_date: Mapped[date] = mapped_column(sa.Date)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ki_role: Mapped[str | None] = mapped_column(sa.String(32))
    ki_sex: Mapped[str | None] = mapped_column(sa.String(16))
    form_version: Mapped[str | None] = mapped_column(sa.String(100))
    answers: Mapped[dict] = mapped_column(PayloadJSON)
    version_count: Mapped[int] = mapped_column(sa.Integer, default=1)
    received_via: Mapped[str] = mapped_column(sa.String(16))
    # Kobo's review: `validation_status_approved|_not_approved|_on_hold` (None: not reviewed),
    # and when it was set (kpi's Unix timestamp). See crisis_ct/kobo/review.py.
    validation_status: Mapped[str | None] = mapped_column(sa.String(40))
    validation_timestamp: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Set when the submission is gone from Kobo: kept with its history, no longer counted.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubmissionVersion(Base):
    """Every version ever received, verbatim: the history behind a submission."""

    __tablename__ = "submission_versions"
    __table_args__ = (
        # Only edits have a deprecated id; first versions (nearly all rows) stay out of it.
        sa.Index("ix_submission_versions_deprecated_id", "deprecated_id",
                 postgresql_where=sa.text("deprecated_id IS NOT NULL"),
                 sqlite_where=sa.text("deprecated_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    deprecated_id: Mapped[str | None] = mapped_column(sa.String(100))
    raw: Mapped[dict] = mapped_column(PayloadJSON)
    received_via: Mapped[str] = mapped_column(sa.String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuarantinedSubmission(Base):
    """A submission that could not be stored yet, kept verbatim with the reason."""

    __tablename__ = "quarantined_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    asset_uid: Mapped[str | None] = mapped_column(sa.String(64))
    instance_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    kobo_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    reason_code: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str] = mapped_column(sa.Text)
    raw: Mapped[dict] = mapped_column(JSONType)
    received_via: Mapped[str] = mapped_column(sa.String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=1)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Facts behind the reason, for people and tools: nearest known sites, unknown questions…
    details: Mapped[dict | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("submissions.id", ondelete="SET NULL"))
