"""An operation with admin areas, sites and a registered Kobo asset using the real
bundled form, plus a maker of Kobo-shaped submissions for it."""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from crisis_ct.accounts.audit import Actor
from crisis_ct.geography.importers import read_admin_areas, read_sites
from crisis_ct.geography.operations import get_operation, import_admin_areas, import_sites
from crisis_ct.kobo.forms import add_form_version, bundled_form, register_asset
from crisis_ct.kobo.formspec import FormSpec
from crisis_ct.kobo.models import KoboAsset
from crisis_ct.kobo.synthetic import make_submission
from tests.support.geo_fixtures import write_levels, write_sites_csv

ASSET_UID = "aCtTestAsset001"
ACTOR = Actor.system("test")
_FORM: FormSpec | None = None


def form() -> FormSpec:
    global _FORM
    if _FORM is None:
        _FORM = bundled_form()
    return _FORM


# (site_id, name, type, lat, lon, individuals, households) — in tests/support/geo_fixtures squares
SITES = [
    ("S1", "Camp one", "planned_camp", 0.5, 0.5, 1200, 240),
    ("S2", "Camp two", "self_settled", 1.5, 0.5, 800, 160),
    ("S3", "Centre three", "collective_centre", 0.5, 1.5, 400, 80),
    ("S4", "Transit four", "transit_centre", 1.5, 3.5, 600, 120),
]
SITE_TYPES = {row[0]: row[2] for row in SITES}
SITE_LOCATIONS = {row[0]: (row[3], row[4]) for row in SITES}


@dataclass
class KoboWorld:
    operation_id: int
    asset_id: int
    tmp: Path

    def add_site(self, database, code: str, name: str, site_type: str, lat: float, lon: float):
        path = write_sites_csv(self.tmp / f"extra-{code}.csv", [(code, name, site_type, lat, lon, 100, 20)])
        with database.session() as session:
            import_sites(session, ACTOR, get_operation(session, "op1"), read_sites(path))
        SITE_TYPES[code] = site_type


def build_world(database, seed, tmp_path: Path, *, sites=SITES, with_asset: bool = True) -> KoboWorld:
    """op1 with its admin areas and sites and (unless `with_asset` is false, as before a
    `kobo setup`) the asset ASSET_UID with the bundled form; asset_id is 0 without it."""
    seed.operation("op1")
    paths = write_levels(tmp_path)
    with database.session() as session:
        operation = get_operation(session, "op1")
        for level in (1, 2, 3):
            import_admin_areas(session, ACTOR, operation, read_admin_areas(paths[level], level))
        import_sites(session, ACTOR, operation, read_sites(write_sites_csv(tmp_path / "sites.csv", list(sites))))
        if not with_asset:
            return KoboWorld(operation.id, 0, tmp_path)
        asset = register_asset(session, operation.id, ASSET_UID, name="CT site assessment")
        add_form_version(session, asset, form())
        return KoboWorld(operation.id, asset.id, tmp_path)


def serve_world_asset(database, fake_kobo) -> None:
    """The world's asset connected to the fake Kobo, which serves it with the bundled form."""
    with database.session() as session:
        session.scalar(sa.select(KoboAsset)).server_url = fake_kobo.base_url
    fake_kobo.add_asset(ASSET_UID, content=form().to_asset_content(), version=form().version)


class SubmissionMaker:
    """Kobo records for the test sites, with increasing `_id`s."""

    def __init__(self, seed: int = 1):
        self.rng = random.Random(seed)
        self.ids = itertools.count(1000)

    def make(self, site_code: str = "S1", *, risk: float = 0.3, answers: dict | None = None,
             assessment_date: date = date(2026, 11, 1), site_type: str | None = None, **kwargs) -> dict:
        return make_submission(
            form(), site_code=site_code, site_type=site_type or SITE_TYPES.get(site_code, "planned_camp"),
            assessment_date=assessment_date, submitted_at=datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc),
            kobo_id=next(self.ids), asset_uid=ASSET_UID, version=form().version, rng=self.rng, risk=risk,
            answers_override=answers, location=SITE_LOCATIONS.get(site_code), **kwargs)


def lowest_risk_answers() -> dict[str, str]:
    """Every indicator at its phase-1 answer: no risk, referral pathway present."""
    from crisis_ct.scoring.service import catalogue

    answers = {"sensitive_ok": "yes"}
    for indicator in catalogue().indicators:
        if indicator.answer_type == "integer":
            answers[indicator.name] = "0"
        else:
            answers[indicator.name] = min((c for c in indicator.choices if c.phase), key=lambda c: c.phase).code
    return answers


def count(database, model) -> int:
    """Rows of `model` in the database."""
    with database.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


WEBHOOK_URL = "/api/v1/kobo/submissions"


def post_record(client, token: str, record: dict | str | bytes):
    """POST one record (or a raw JSON body) to the webhook as Kobo does."""
    import json

    body = record if isinstance(record, (str, bytes)) else json.dumps(record)
    return client.post(WEBHOOK_URL, data=body, content_type="application/json",
                       headers={"Authorization": f"Bearer {token}"})


def store_as_webhook(database, *records) -> None:
    """Stores the records as the webhook does: the submission and its queue row in one transaction."""
    from crisis_ct.kobo.importer import load_asset, store_batch

    with database.session() as session:
        store_batch(session, load_asset(session, ASSET_UID), list(records), via="webhook", match_distance_m=500)
