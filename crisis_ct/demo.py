"""The demo operation: a fictional country with sites and generated key-informant
submissions, stored through the same ingestion path as real ones, then scored; and a
fictional referral directory with deliberate gaps (crisis_ct.referral.demo)."""
from __future__ import annotations

import hashlib
import random
from datetime import datetime, time, timedelta, timezone

import click
import sqlalchemy as sa

from crisis_ct.accounts.audit import Actor
from crisis_ct.cli_support import AppGroup, cli_actor
from crisis_ct.config import REPO_ROOT
from crisis_ct.geography.importers import read_admin_areas, read_sites
from crisis_ct.geography.models import Operation, Site
from crisis_ct.geography.operations import create_operation, import_admin_areas, import_sites
from crisis_ct.kobo.forms import add_form_version, bundled_form, register_asset
from crisis_ct.kobo.ingest import Ingestor
from crisis_ct.kobo.synthetic import make_submission
from crisis_ct.scoring.service import catalogue, score_all
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import database

DEMO_DIR = REPO_ROOT / "geo" / "demo"
DEMO_CODE = "demo"
DEMO_ASSET = "aDemoCtSiteAssessment"
SEED = 2026


def load_demo_geography(session, actor: Actor) -> Operation:
    operation = create_operation(session, actor, DEMO_CODE, "Demo operation (fictional country)", "XZZ", ["en", "fr"])
    for level in (1, 2, 3):
        path = DEMO_DIR / f"adm{level}.geojson"
        import_admin_areas(session, actor, operation, read_admin_areas(path, level), source=str(path))
    sites_path = DEMO_DIR / "sites.csv"
    import_sites(session, actor, operation, read_sites(sites_path), source=str(sites_path))
    return operation


def _area_risk(pcode: str) -> float:
    """A stable risk level (0..1) per adm2 area, so risk clusters on the map as it does in a crisis."""
    digest = int(hashlib.sha256(pcode.encode()).hexdigest()[:8], 16)
    return (digest % 1000) / 1000


# Share of sites per risk profile: (share, chance of a risk answer, critical signals allowed).
PROFILES = (
    (0.40, 0.03, False),   # calm
    (0.30, 0.15, False),   # stressed
    (0.18, 0.35, False),   # severe, no critical signal
    (0.12, 0.45, True),    # critical signals reported
)


def _profile(rng: random.Random, area_risk: float) -> tuple[float, bool]:
    # Riskier areas draw from the riskier end, so hot-spots cluster.
    draw = min(0.999, rng.random() * 0.6 + area_risk * 0.5)
    for share, risk, critical in PROFILES:
        if draw < share:
            return risk, critical
        draw -= share
    return PROFILES[-1][1], PROFILES[-1][2]


def _calm_critical_answers() -> dict[str, str]:
    return {indicator.name: "no" for indicator in catalogue().indicators
            if indicator.critical and any(c.code == "no" for c in indicator.choices)}


def _risky_answers() -> dict[str, set[str]]:
    return {indicator.name: {c.code for c in indicator.choices if (c.phase or 0) >= 3}
            for indicator in catalogue().indicators}


def load_demo_submissions(session, operation: Operation, *, today=None) -> int:
    """Three to five key-informant interviews for most sites; some sites left
    unassessed or assessed long ago, so the map shows every state."""
    rng = random.Random(SEED)
    today = today or utcnow().date()
    form = bundled_form()
    asset = register_asset(session, operation.id, DEMO_ASSET, name="Demo CT site assessment")
    add_form_version(session, asset, form)
    risky = _risky_answers()
    calm_critical = _calm_critical_answers()
    records = []
    kobo_id = 1
    sites = session.scalars(sa.select(Site).where(Site.operation_id == operation.id).order_by(Site.id)).all()
    for site in sites:
        draw = rng.random()
        if draw < 0.12:
            continue  # not assessed yet
        age_days = rng.randint(200, 260) if draw < 0.16 else rng.randint(100, 170) if draw < 0.24 else \
            rng.randint(3, 60)
        risk, critical_allowed = _profile(rng, _area_risk(site.adm2_pcode or ""))
        lon, lat = session.execute(sa.select(sa.func.ST_X(Site.geom), sa.func.ST_Y(Site.geom))
                                   .where(Site.id == site.id)).one()
        for _ in range(rng.choice((2, 3, 3, 4, 4, 5))):
            assessed_on = today - timedelta(days=age_days + rng.randint(0, 4))
            submitted = datetime.combine(assessed_on, time(16, 0), tzinfo=timezone.utc)
            records.append(make_submission(
                form, site_code=site.site_code, site_type=site.site_type, assessment_date=assessed_on,
                submitted_at=submitted, kobo_id=kobo_id, asset_uid=DEMO_ASSET, version=form.version, rng=rng,
                risk=risk, location=(lat, lon), risky_answers=risky,
                answers_override=None if critical_allowed else calm_critical))
            kobo_id += 1
    ingestor = Ingestor(session, asset, via="demo")
    for start in range(0, len(records), 1000):
        ingestor.ingest(records[start:start + 1000])
    return len(records)


def load_demo(session, actor: Actor) -> Operation:
    operation = load_demo_geography(session, actor)
    load_demo_submissions(session, operation)
    score_all(session, operation.id)
    # Imported here: the referral module sits above scoring and tasks in the import graph.
    from crisis_ct.referral.demo import load_demo_directory

    load_demo_directory(session, operation.id, actor, utcnow().date())
    return operation


@click.group("demo", cls=AppGroup)
def demo_group() -> None:
    """The fictional demo operation."""


@demo_group.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when any operation exists already")
def demo_load(if_empty):
    """Load the demo operation: geography, sites, key-informant submissions, scores, tasks."""
    with database().session() as session:
        if session.scalar(sa.select(Operation.id).where(Operation.code == DEMO_CODE)) is not None:
            click.echo("the demo operation exists already")
            return
        if if_empty and session.scalar(sa.select(sa.func.count()).select_from(Operation)):
            click.echo("the database holds operations already; not loading the demo")
            return
        load_demo(session, cli_actor())
    click.echo("demo operation loaded")
