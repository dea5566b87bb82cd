"""Stored risk computations. Never overwritten: each computation is a new row and
the latest one is flagged current, so trends show and old maps can be reproduced."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crisis_ct.db import Base
from crisis_ct.timeutil import utcnow
from crisis_ct.types import JSONType, UTCDateTime


class SiteRiskScore(Base):
    __tablename__ = "site_risk_scores"
    __table_args__ = (
        sa.Index("ix_site_risk_scores_site_computed", "site_id", "computed_at"),
        # The notification detector asks every minute for the scores of its window.
        sa.Index("ix_site_risk_scores_computed_at", "computed_at"),
        # One current score per site, enforced by the database on both engines.
        sa.Index("uq_site_risk_scores_current", "site_id", unique=True,
                 postgresql_where=sa.text("is_current"), sqlite_where=sa.text("is_current")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_current: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    phase: Mapped[int | None] = mapped_column(sa.SmallInteger)
    confidence: Mapped[str | None] = mapped_column(sa.String(8))
    assessment_date: Mapped[date | None] = mapped_column(sa.Date)
    # The recency class `confidence` was computed with: confidence is aged once, by scoring;
    # reads and the daily re-score compare it with today's class.
    recency: Mapped[str | None] = mapped_column(sa.String(8))
    catalogue_version: Mapped[str] = mapped_column(sa.String(32))
    explanation: Mapped[dict] = mapped_column(JSONType)
    domain_phases: Mapped[dict | None] = mapped_column(JSONType)  # a copy of explanation's, for the map


class AdminAreaRiskScore(Base):
    __tablename__ = "admin_area_risk_scores"
    __table_args__ = (
        sa.Index("ix_admin_area_risk_scores_area_computed", "admin_area_id", "computed_at"),
        sa.Index("ix_admin_area_risk_scores_computed_at", "computed_at"),
        sa.Index("uq_admin_area_risk_scores_current", "admin_area_id", unique=True,
                 postgresql_where=sa.text("is_current"), sqlite_where=sa.text("is_current")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admin_area_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_areas.id", ondelete="CASCADE"))
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_current: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    phase: Mapped[int | None] = mapped_column(sa.SmallInteger)
    status: Mapped[str] = mapped_column(sa.String(20))
    hotspot: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    catalogue_version: Mapped[str] = mapped_column(sa.String(32))
    summary: Mapped[dict] = mapped_column(JSONType)
