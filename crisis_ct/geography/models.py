"""Operations, administrative areas (COD-AB) and crisis sites."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.orm import Mapped, mapped_column

from crisis_ct.db import Base
from crisis_ct.timeutil import utcnow
from crisis_ct.types import JSONType, UTCDateTime

SITE_TYPES = (
    "planned_camp",
    "self_settled",
    "collective_centre",
    "transit_centre",
    "border_point",
    "informal_settlement",
    "host_community",
)
TRANSIT_SITE_TYPES = ("transit_centre", "border_point")
MAX_ADMIN_LEVEL = 3


class Operation(Base):
    """One humanitarian response (a country or crisis) with its own data and people."""

    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    country_iso3: Mapped[str] = mapped_column(sa.String(3))
    languages: Mapped[list] = mapped_column(JSONType, default=lambda: ["en", "fr"])
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdminArea(Base):
    __tablename__ = "admin_areas"
    __table_args__ = (sa.UniqueConstraint("operation_id", "pcode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    pcode: Mapped[str] = mapped_column(sa.String(32))
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    name_fr: Mapped[str | None] = mapped_column(sa.String(200))
    parent_pcode: Mapped[str | None] = mapped_column(sa.String(32))
    valid_on: Mapped[date | None] = mapped_column(sa.Date)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def name(self, lang: str = "en") -> str:
        preferred, fallback = (self.name_fr, self.name_en) if lang == "fr" else (self.name_en, self.name_fr)
        return preferred or fallback or self.pcode


class Site(Base):
    """A crisis site (camp, collective centre, transit point ...). Never a person."""

    __tablename__ = "sites"
    __table_args__ = (sa.UniqueConstraint("operation_id", "site_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    site_code: Mapped[str] = mapped_column(sa.String(64))
    site_code_source: Mapped[str | None] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(200))
    site_type: Mapped[str] = mapped_column(sa.String(32))
    population_individuals: Mapped[int | None] = mapped_column(sa.Integer)
    population_households: Mapped[int | None] = mapped_column(sa.Integer)
    adm1_pcode: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    adm2_pcode: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    adm3_pcode: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def pcodes(self) -> list[str]:
        return [p for p in (self.adm1_pcode, self.adm2_pcode, self.adm3_pcode) if p]
