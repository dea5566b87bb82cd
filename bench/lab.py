"""The benchmark's world: a throwaway PostGIS, the demo country at 10,000 sites, users with
tokens, and 100,000 synthetic Kobo submissions, built once per run and shared by the benchmarks.

Databases are copied from each other with `CREATE DATABASE … TEMPLATE …` (a file copy inside
PostgreSQL), so every benchmark starts from the state it needs without repeating slow setup:

    world   migrated; operation, admin areas, sites, Kobo asset with the bundled form, users
    loaded  world + the 100,000 submissions, stored through the real ingestion path
    scored  loaded + a full scoring (site and area scores, mitigation tasks)
"""
from __future__ import annotations

import csv
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import psycopg  # noqa: E402

from crisis_ct.accounts.audit import Actor  # noqa: E402
from crisis_ct.db import Database, upgrade  # noqa: E402
from tests.support.throwaway_postgis import ThrowawayPostgis  # noqa: E402

OPERATION = "bench"
ASSET_UID = "aBenchCtSiteAssessment"
ACTOR = Actor.system("bench")
N_SITES = 10_000
N_ADM3 = 1_000
SUBMISSIONS_PER_SITE = 10
BATCH = 1000
EXPERTS = 50


@dataclass(frozen=True)
class SiteInfo:
    code: str
    site_type: str
    lat: float
    lon: float
    adm2_pcode: str


@dataclass
class Tokens:
    submitter: str = ""
    coordinator: str = ""
    viewer_email: str = "viewer@bench.example.org"
    viewer_password: str = "bench viewer password"
    viewer: str = ""
    # Site-level results (the sites GeoJSON with risk, the map's site markers) are for experts
    # and above (crisis_ct.projection): the map and GeoJSON figures sign in as this expert.
    map_email: str = "map.expert@bench.example.org"
    map_password: str = "bench map expert password"
    map: str = ""
    experts: tuple[str, ...] = ()


def read_site_infos(path: Path) -> list[SiteInfo]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [SiteInfo(row["site_id"], row["site_type"], float(row["latitude"]), float(row["longitude"]),
                         row["adm2_pcode"]) for row in csv.DictReader(handle)]


class Lab:
    def __init__(self, workdir: Path, *, log=print):
        self.workdir = workdir
        self.log = log
        self.server = ThrowawayPostgis().start()
        self.geo_dir = workdir / "geo"
        self.tokens = Tokens()
        self._records: list[dict] | None = None
        self._built: set[str] = set()
        self.loaded_rate: float | None = None  # set by whoever stores the submissions first

    def stop(self) -> None:
        self.server.stop()

    # -- databases ----------------------------------------------------------------------------
    def url(self, name: str) -> str:
        return self.server.url(name)

    def dsn(self, name: str) -> str:
        return self.server.dsn(name)

    def new_database(self, name: str) -> Database:
        database = Database(self.server.create_database(name))
        upgrade(database)
        return database

    def copy_database(self, source: str, name: str) -> str:
        with psycopg.connect(self.server.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        return self.url(name)

    def postgres_version(self) -> str:
        with psycopg.connect(self.server.dsn("postgres")) as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
            postgis = None
        with psycopg.connect(self.dsn(self.world())) as connection:
            postgis = connection.execute("SELECT postgis_lib_version()").fetchone()[0]
        return f"PostgreSQL {version}, PostGIS {postgis}"

    # -- geography ----------------------------------------------------------------------------
    def geography(self) -> Path:
        if not (self.geo_dir / "sites.csv").exists():
            from geo.demo_country import generate

            self.log(f"generating the demo country: {N_SITES} sites, {N_ADM3} adm3 areas")
            generate(self.geo_dir, n_sites=N_SITES, adm3_count=N_ADM3)
        return self.geo_dir

    def import_geography(self, database: Database, *, sites: bool = True) -> None:
        from crisis_ct.geography.importers import read_admin_areas, read_sites
        from crisis_ct.geography.operations import create_operation, import_admin_areas, import_sites

        geo = self.geography()
        with database.session() as session:
            operation = create_operation(session, ACTOR, OPERATION, "Benchmark operation", "XZZ", ["en", "fr"])
            for level in (1, 2, 3):
                path = geo / f"adm{level}.geojson"
                import_admin_areas(session, ACTOR, operation, read_admin_areas(path, level), source=str(path))
            if sites:
                import_sites(session, ACTOR, operation, read_sites(geo / "sites.csv"), source="sites.csv")

    # -- the world ----------------------------------------------------------------------------
    def world(self) -> str:
        if "world" not in self._built:
            self.log("building the world database (areas, sites, asset, users)")
            database = self.new_database("world")
            self.import_geography(database)
            with database.session() as session:
                self._register_asset(session)
                self._add_users(session)
            database.dispose()
            self._built.add("world")
        return "world"

    def _register_asset(self, session) -> None:
        from crisis_ct.geography.operations import get_operation
        from crisis_ct.kobo.forms import add_form_version, bundled_form, register_asset

        operation = get_operation(session, OPERATION)
        asset = register_asset(session, operation.id, ASSET_UID, name="Benchmark CT site assessment")
        add_form_version(session, asset, bundled_form())

    def _add_users(self, session) -> None:
        from crisis_ct.accounts.operations import add_user, create_token
        from crisis_ct.tasks.service import catalogues

        def member(email: str, role: str, **kwargs) -> str:
            add_user(session, ACTOR, email, role=role, operation_code=OPERATION, **kwargs)
            return create_token(session, ACTOR, email, name="bench")[1]

        every_tag = sorted({tag for rule in catalogues()[0].rules for tag in rule.expertise})
        self.tokens.submitter = member("kobo@bench.example.org", "submitter", password=None)
        self.tokens.coordinator = member("coord@bench.example.org", "coordinator", password=None)
        self.tokens.viewer = member(self.tokens.viewer_email, "viewer", password=self.tokens.viewer_password)
        self.tokens.map = member(self.tokens.map_email, "expert", password=self.tokens.map_password)
        self.tokens.experts = tuple(
            member(f"expert{i:02d}@bench.example.org", "expert", password=None, expertise=every_tag)
            for i in range(EXPERTS))

    def asset(self, session):
        import sqlalchemy as sa

        from crisis_ct.kobo.models import KoboAsset

        return session.scalar(sa.select(KoboAsset).where(KoboAsset.asset_uid == ASSET_UID))

    # -- submissions --------------------------------------------------------------------------
    def records(self) -> list[dict]:
        """The 100,000 submissions: 10 key-informant interviews per site, with the demo's
        risk profiles so scores spread over every phase. Generated in two processes."""
        if self._records is None:
            sites = read_site_infos(self.geography() / "sites.csv")
            self.log(f"generating {len(sites) * SUBMISSIONS_PER_SITE:,} synthetic submissions")
            chunks = [(sites[i:i + 500], i * SUBMISSIONS_PER_SITE + 1) for i in range(0, len(sites), 500)]
            with ProcessPoolExecutor(max_workers=2) as pool:
                parts = pool.map(_make_records, chunks)
                self._records = [record for part in parts for record in part]
        return self._records

    def fresh_records(self, count: int, *, first_kobo_id: int, seed: int) -> list[dict]:
        """New submissions (ids never used by `records`) for sites chosen at random."""
        sites = read_site_infos(self.geography() / "sites.csv")
        rng = random.Random(seed)
        chosen = [rng.choice(sites) for _ in range(count)]
        return _make_records((chosen, first_kobo_id), per_site=1, seed=seed)

    def loaded(self) -> str:
        """A database holding the 100,000 submissions (stored here unless a benchmark did)."""
        if "loaded" not in self._built:
            url = self.copy_database(self.world(), "loaded")
            database = Database(url)
            self.log("storing the submissions through the ingestion path")
            ingest_batches(database, self.records())
            database.dispose()
            self._built.add("loaded")
        return "loaded"

    def mark_loaded(self) -> None:
        self._built.add("loaded")

    def scored(self) -> str:
        if "scored" not in self._built:
            url = self.copy_database(self.loaded(), "scored")
            self.log("scoring every site (score_all)")
            database = Database(url)
            score_everything(database)
            database.dispose()
            self._built.add("scored")
        return "scored"

    def mark_scored(self) -> None:
        self._built.add("scored")


def ingest_batches(database: Database, records: list[dict], *, via: str = "import") -> None:
    """Like `crisis-ct kobo import`: batches of 1,000, one transaction each."""
    from crisis_ct.kobo.ingest import Ingestor

    for start in range(0, len(records), BATCH):
        with database.session() as session:
            Ingestor(session, _asset(session), via=via).ingest(records[start:start + BATCH])


def score_everything(database: Database) -> None:
    from crisis_ct.geography.operations import get_operation
    from crisis_ct.scoring.service import score_all

    with database.session() as session:
        score_all(session, get_operation(session, OPERATION).id)


def _asset(session):
    import sqlalchemy as sa

    from crisis_ct.kobo.models import KoboAsset

    return session.scalar(sa.select(KoboAsset).where(KoboAsset.asset_uid == ASSET_UID))


def _make_records(chunk: tuple[list[SiteInfo], int], *, per_site: int = SUBMISSIONS_PER_SITE,
                  seed: int = 0) -> list[dict]:
    # Runs in a worker process: everything it needs is rebuilt here from files.
    from crisis_ct.demo import _area_risk, _calm_critical_answers, _profile, _risky_answers
    from crisis_ct.kobo.forms import bundled_form
    from crisis_ct.kobo.synthetic import make_submission

    sites, kobo_id = chunk
    form = bundled_form()
    risky, calm_critical = _risky_answers(), _calm_critical_answers()
    rng = random.Random(f"bench:{seed}:{kobo_id}")
    today = date.today()
    records = []
    for site in sites:
        risk, critical_allowed = _profile(rng, _area_risk(site.adm2_pcode))
        age_days = rng.randint(3, 60)
        for _ in range(per_site):
            assessed_on = today - timedelta(days=age_days + rng.randint(0, 4))
            records.append(make_submission(
                form, site_code=site.code, site_type=site.site_type, assessment_date=assessed_on,
                submitted_at=datetime.combine(assessed_on, time(16, 0), tzinfo=timezone.utc), kobo_id=kobo_id,
                asset_uid=ASSET_UID, version=form.version, rng=rng, risk=risk, location=(site.lat, site.lon),
                risky_answers=risky, answers_override=None if critical_allowed else calm_critical))
            kobo_id += 1
    return records
