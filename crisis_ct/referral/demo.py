"""The demo operation's fictional referral directory: a few organisations per province, with
deliberate gaps (no counter-trafficking case management on the Eastern Coast and child
protection in only two of its districts, no child protection in the Southern Lakes, GBV case
management in half of the North-West districts) and some details not verified for months, so the dashboard, site, task and card pages show
what they are for. Loaded through the sheet import, as a real service mapping would be.
Every name, phone number and address is invented (.example.org, 555 numbers)."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.audit import Actor
from crisis_ct.geography.models import Site
from crisis_ct.referral.directory import import_rows
from crisis_ct.referral.service_types import service_types
from crisis_ct.referral.sheet import SheetRow

# (code, organisation, service types, adm1 P-codes, adm2 P-codes, service point (name, near these
#  areas' sites) or None, languages, focal point role, days since verified or None)
PROVIDERS = (
    ("nw-protection", "Alliance Protection Nord-Ouest", "ct_case_management;child_protection", "XZ01", "",
     ("Bureau de protection", "XZ0101"), "fr;en", "CT case-management focal point", 20),
    ("nw-women", "Femmes Solidaires", "gbv_case_management", "", "XZ0101;XZ0102",
     ("Espace femmes et filles", "XZ0102"), "fr", "GBV case-management focal point", 40),
    ("nw-clinic", "Clinique Mobile Forêt", "health;mhpss", "XZ01", "", ("Clinique mobile, base", "XZ0103"), "fr",
     "Head nurse (duty phone)", 150),
    ("safe-homes", "Maison d'accueil sécurisée", "safe_accommodation", "XZ01;XZ03", "", None, "fr",
     "Admissions focal point", 10),
    ("rights-docs", "Droits et Documents", "legal_aid;civil_documentation", "XZ01;XZ03", "",
     ("Permanence juridique", "XZ0104"), "fr;en", "Legal aid coordinator", 45),
    ("ec-legal", "Coastal Legal Aid Network", "legal_aid;civil_documentation", "XZ02", "",
     ("Legal aid desk, harbour office", "XZ0201"), "en;fr", "Legal aid coordinator", 30),
    ("ec-children", "Eastern Child Protection Services", "child_protection", "", "XZ0201;XZ0202",
     ("Child protection office", "XZ0202"), "en", "Family tracing focal point", 75),
    ("ec-health", "Coastal Health Network", "health;mhpss", "XZ02", "", ("District hospital annex", "XZ0203"),
     "en", "Clinical focal point", 25),
    ("ec-women", "Eastern Women's Centre", "gbv_case_management", "XZ02", "", ("Women's centre", "XZ0204"),
     "en;fr", "GBV case-management focal point", 200),
    ("ec-safe-homes", "Coastal Safe Homes", "safe_accommodation", "XZ02", "", None, "en",
     "Admissions focal point", 15),
    ("national-hotline", "Protection Hotline 1510", "hotline", "XZ01;XZ02;XZ03", "", None, "fr;en",
     "Hotline supervisor", None),
    ("livelihoods", "Livelihoods Network", "livelihoods", "XZ01;XZ02;XZ03", "", None, "en;fr",
     "Programme officer", 100),
    ("sl-case", "Lakes Case Management Consortium", "ct_case_management;gbv_case_management", "XZ03", "",
     ("Case management centre", "XZ0301"), "en;fr", "Intake focal point", 60),
    ("sl-health", "Lakes Health Post", "health;mhpss", "XZ03", "", ("Health post", "XZ0302"), "en",
     "Clinical focal point", 5),
)


def _near(session: Session, operation_id: int, adm2: str) -> tuple[float, float] | None:
    """A point a little off the middle of the district's sites: an office in town."""
    row = session.execute(sa.select(sa.func.avg(sa.func.ST_X(Site.geom)), sa.func.avg(sa.func.ST_Y(Site.geom)))
                          .where(Site.operation_id == operation_id, Site.adm2_pcode == adm2)).one()
    return None if row[0] is None else (round(float(row[0]) + 0.013, 5), round(float(row[1]) - 0.009, 5))


def demo_rows(session: Session, operation_id: int, today: date) -> list[SheetRow]:
    rows = []
    for number, (code, organisation, types, adm1, adm2, point, languages, role, age) in enumerate(PROVIDERS, 2):
        lon_lat = _near(session, operation_id, point[1]) if point else None
        cells = {"provider_code": code, "organisation": organisation, "service_types": types, "adm1_pcodes": adm1,
                 "adm2_pcodes": adm2, "service_point_name": point[0] if point else "",
                 "longitude": str(lon_lat[0]) if lon_lat else "", "latitude": str(lon_lat[1]) if lon_lat else "",
                 "languages": languages, "opening_hours": "Mon–Fri 08:00–16:00" if point else "",
                 "focal_point_role": role, "office_phone": f"+999 555 01{number:02d}",
                 "office_email": f"referrals@{code}.example.org",
                 "referral_requirements": "Informed consent of the person; call before coming",
                 "last_verified_on": (today - timedelta(days=age)).isoformat() if age is not None else ""}
        rows.append(SheetRow(number, cells))
    return rows


def load_demo_directory(session: Session, operation_id: int, actor: Actor, today: date) -> int:
    result = import_rows(session, actor, operation_id, demo_rows(session, operation_id, today),
                         types=service_types(), today=today, source="demo")
    if not result.ok:
        raise ValueError(f"the demo directory does not import: {result.errors}")
    return result.created + result.updated
