"""Fixtures for the web pages: a small operation with sites (one with a hostile name),
risk properties injected the way the scoring module will add them, and sign-in."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSON

from crisis_ct.accounts.audit import Actor
from crisis_ct.geography import queries
from crisis_ct.geography.importers import read_admin_areas, read_sites
from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.geography.operations import get_operation, import_admin_areas, import_sites
from tests.support.geo_fixtures import write_levels, write_sites_csv

PASSWORD = "correct horse battery"
HOSTILE_NAME = "<script>alert(1)</script>"
ACTOR = Actor.system("test")

# (site_id, name, type, lat, lon, individuals, households); lon 0..4, lat 0..2 (geo_fixtures).
SITES = [
    ("S1", "Camp Alpha", "planned_camp", 0.5, 0.5, 12000, 2400),
    ("S2", "Transit Beta", "transit_centre", 1.5, 1.5, 300, 60),
    ("S3", HOSTILE_NAME, "self_settled", 0.5, 2.5, 800, 150),
    ("S4", "Border Delta", "border_point", 1.5, 3.5, 50, 10),
]

# What the scoring module's enrichers will add (web1 brief §4); S4 is not assessed.
SITE_RISK = {
    "S1": {"phase": 4, "confidence": "high", "recency": "current", "assessment_date": "2026-03-02",
           "domain_phases": {"V": 3, "R": 4, "E": 4, "S": 2, "C": 3}},
    "S2": {"phase": 2, "confidence": "low", "recency": "ageing", "assessment_date": "2025-10-15",
           "domain_phases": {"V": 2, "R": 2, "E": 1, "S": 5, "C": 1}},
    "S3": {"phase": 3, "confidence": "medium", "recency": "current", "assessment_date": "2026-02-20",
           "domain_phases": {"V": 3, "R": 3, "E": 2, "S": 3, "C": 3}},
}
AREA_RISK = {
    "XZ01": {"phase": 3, "status": "classified", "hotspot": True, "sites_assessed": 3, "sites_known": 3,
             "pct_sites_3plus": 66.7, "pct_sites_4plus": 33.3, "confidence": "medium"},
    "XZ02": {"phase": None, "status": "insufficient_data", "hotspot": False, "sites_assessed": 0,
             "sites_known": 1, "pct_sites_3plus": None, "pct_sites_4plus": None, "confidence": None},
}


def load_operation(database, directory, code: str, sites=SITES) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    paths = write_levels(directory)
    with database.session() as session:
        operation = get_operation(session, code)
        for level in (1, 2, 3):
            import_admin_areas(session, ACTOR, operation, read_admin_areas(paths[level], level))
        import_sites(session, ACTOR, operation, read_sites(write_sites_csv(directory / "sites.csv", sites)))


@pytest.fixture
def operation(seed, database, tmp_path):
    seed.operation("op1")
    load_operation(database, tmp_path / "op1", "op1")
    return "op1"


@pytest.fixture
def risk_properties(monkeypatch):
    """Risk properties on the GeoJSON, as the scoring module's enrichers will add them."""

    def sites(session, table):
        def by_site(values):
            return sa.case(values, value=table.c.site_code, else_=None)

        columns = {key: by_site({code: risk[key] for code, risk in SITE_RISK.items()})
                   for key in ("phase", "confidence", "recency", "assessment_date")}
        domains = by_site({code: json.dumps(risk["domain_phases"]) for code, risk in SITE_RISK.items()})
        postgres = session.get_bind().dialect.name == "postgresql"
        columns["domain_phases"] = sa.cast(domains, JSON) if postgres else sa.func.json(domains)
        return None, None, columns

    def areas(session, ids):
        rows = session.execute(sa.select(AdminArea.id, AdminArea.pcode).where(AdminArea.id.in_(ids))).all()
        return {row.id: AREA_RISK[row.pcode] for row in rows if row.pcode in AREA_RISK}

    monkeypatch.setattr(queries, "_site_column_providers", [sites])
    monkeypatch.setattr(queries, "_area_enrichers", [areas])


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, email: str, password: str = PASSWORD, next_url: str | None = None):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    if next_url:
        data["next"] = next_url
    return client.post("/login", data=data)


@pytest.fixture
def viewer(seed, operation, client):
    seed.member("viewer@example.org", "viewer", operation)
    sign_in(client, "viewer@example.org")
    return client


@pytest.fixture
def expert(seed, operation, client):
    """Signed in as an expert: site-level results (viewers see admin-level ones only)."""
    seed.member("expert@example.org", "expert", operation)
    sign_in(client, "expert@example.org")
    return client


@pytest.fixture
def coordinator(seed, operation, client):
    seed.member("coord@example.org", "coordinator", operation)
    sign_in(client, "coord@example.org")
    return client


# --- a scored operation with tasks, for the site, area, task and dashboard pages -----------------

ALL_EXPERTISE = ("CT", "CP", "GBV", "PSEA", "CCCM", "LEGAL", "HEALTH", "CASH", "LAB", "SHELTER", "LIV", "EDU",
                 "MHPSS", "AAP", "WASH")


@pytest.fixture
def scored(database, seed, tmp_path):
    """kobo_world's op1 (sites S1–S4): S1 risky and S2 calm, each from three key informants,
    scored through the real pipeline, which also generates the mitigation tasks; S3 and S4
    are not assessed. People: a viewer, experts A and B, a coordinator."""
    from crisis_ct.kobo.ingest import Ingestor
    from crisis_ct.kobo.models import KoboAsset
    from crisis_ct.scoring.service import score_all
    from tests.support.kobo_world import SubmissionMaker, build_world

    world = build_world(database, seed, tmp_path)
    maker = SubmissionMaker()
    with database.session() as session:
        records = [maker.make("S1", risk=0.6) for _ in range(3)] + [maker.make("S2", risk=0.05) for _ in range(3)]
        Ingestor(session, session.get(KoboAsset, world.asset_id), via="test").ingest(records)
        score_all(session, world.operation_id)
    seed.member("viewer@example.org", "viewer", "op1")
    seed.member("a@example.org", "expert", "op1", expertise=ALL_EXPERTISE)
    seed.member("b@example.org", "expert", "op1", expertise=ALL_EXPERTISE)
    seed.member("coord@example.org", "coordinator", "op1")
    return world


def signed_in_client(app, email: str):
    """A fresh test client signed in as that person."""
    client = app.test_client()
    sign_in(client, email)
    return client


@pytest.fixture
def signed_in(app, scored):
    """signed_in('a@example.org') -> a test client signed in as that person."""
    return lambda email: signed_in_client(app, email)


def site_task_id(database, site_code: str = "S1", expertise: str = "CT") -> int:
    """The first open task at the site needing the expertise tag."""
    from crisis_ct.tasks.models import MitigationTask

    with database.session() as session:
        site_id = session.scalar(sa.select(Site.id).where(Site.site_code == site_code))
        return session.scalar(sa.select(MitigationTask.id).where(
            MitigationTask.site_id == site_id, MitigationTask.status == "open",
            MitigationTask.expertise_tags.like(f"% {expertise} %")).order_by(MitigationTask.id))


def post_action(client, task_id: int, action: str, data: dict | None = None, *, next_url: str | None = None):
    token = csrf_token(client, f"/tasks/{task_id}")
    form = {"csrf_token": token, **(data or {})}
    if next_url:
        form["next"] = next_url
    return client.post(f"/tasks/{task_id}/{action}", data=form)
