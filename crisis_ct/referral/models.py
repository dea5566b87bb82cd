"""Service providers of an operation's referral directory.

Institutional data only: an organisation, its office contact and a focal point named by role,
never a person. The optional service point (clinic, office, help desk) is a public place; the
place of a service that is `never_located` in forms/service_types.yaml (safe accommodation for
victims, domain.md §4.3) is refused before it reaches this table.

`service_types` and `area_pcodes` are space-delimited and padded (" legal_aid health "), as
mitigation_tasks.expertise_tags is: `LIKE '% health %'` filters the same on both databases, and
a directory holds tens to hundreds of rows per operation.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.orm import Mapped, mapped_column

from crisis_ct.db import Base
from crisis_ct.timeutil import utcnow
from crisis_ct.types import JSONType, UTCDateTime


def padded(codes) -> str:
    return " " + " ".join(codes) + " "


class ServiceProvider(Base):
    __tablename__ = "service_providers"
    __table_args__ = (sa.UniqueConstraint("operation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    # The sheet's key: re-importing a row with the same code updates that provider.
    code: Mapped[str] = mapped_column(sa.String(64))
    organisation: Mapped[str] = mapped_column(sa.String(200))
    service_types: Mapped[str] = mapped_column(sa.String(500))
    area_pcodes: Mapped[str] = mapped_column(sa.String(2000))
    service_point_name: Mapped[str | None] = mapped_column(sa.String(200))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    languages: Mapped[list] = mapped_column(JSONType, default=list)
    opening_hours: Mapped[str | None] = mapped_column(sa.String(200))
    focal_point_role: Mapped[str | None] = mapped_column(sa.String(200))
    office_phone: Mapped[str | None] = mapped_column(sa.String(40))
    office_email: Mapped[str | None] = mapped_column(sa.String(254))
    referral_requirements: Mapped[str | None] = mapped_column(sa.String(1000))
    last_verified_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def service_type_codes(self) -> list[str]:
        return self.service_types.split()

    @property
    def pcodes(self) -> list[str]:
        return self.area_pcodes.split()
