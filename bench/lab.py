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
import gzip
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Iterator

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import orjson  # noqa: E402
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
DATA_DIR = REPO_ROOT / "bench" / "data"  # large generated worlds, kept between runs, not in git


@dataclass(frozen=True)
class Scale:
    """How big a world is: sites, adm3 areas (admin 1 and 2 stay as the demo has them) and
    the seed of the demo generator (a seed whose tiling gives every adm3 cell land)."""

    name: str
    sites: int
    adm3: int
    seed: int = 7

    @property
    def submissions(self) -> int:
        return self.sites * SUBMISSIONS_PER_SITE


SCALES = {"10k": Scale("10k", N_SITES, N_ADM3), "100k": Scale("100k", 100_000, 10_000, seed=8)}


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
    coordinator_email: str = "coord@bench.example.org"
    coordinator_password: str = "bench coordinator password"
    experts: tuple[str, ...] = ()


def read_site_infos(path: Path) -> list[SiteInfo]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [SiteInfo(row["site_id"], row["site_type"], float(row["latitude"]), float(row["longitude"]),
                         row["adm2_pcode"]) for row in csv.DictReader(handle)]


class Lab:
    def __init__(self, workdir: Path, *, log=print, scale: Scale = SCALES["10k"], server=None,
                 prefix: str = ""):
        self.workdir = workdir
        self.log = log
        self.scale = scale
        self.prefix = prefix  # database names, so two worlds can share one server
        self._own_server = server is None
        self.server = server or ThrowawayPostgis().start()
        # The 10,000-site world is generated in a second; a larger one is kept in bench/data.
        self.geo_dir = workdir / "geo" if scale.name == "10k" else DATA_DIR / scale.name / "geo"
        self.tokens = Tokens()
        self._records: list[dict] | None = None
        self._built: set[str] = set()
        self.loaded_rate: float | None = None  # set by whoever stores the submissions first

    def stop(self) -> None:
        if self._own_server:
            self.server.stop()

    # -- databases ----------------------------------------------------------------------------
    def url(self, name: str) -> str:
        return self.server.url(self._db(name))

    def dsn(self, name: str) -> str:
        return self.server.dsn(self._db(name))

    def _db(self, name: str) -> str:
        return name if name == "postgres" or name.startswith(self.prefix) else self.prefix + name

    def new_database(self, name: str) -> Database:
        database = Database(self.server.create_database(self._db(name)))
        upgrade(database)
        return database

    def copy_database(self, source: str, name: str) -> str:
        with psycopg.connect(self.server.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self._db(name)}"')
            connection.execute(f'CREATE DATABASE "{self._db(name)}" TEMPLATE "{self._db(source)}"')
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

            scale = self.scale
            self.log(f"generating the demo country: {scale.sites:,} sites, {scale.adm3:,} adm3 areas")
            partial = self.geo_dir.with_name(self.geo_dir.name + ".partial")
            generate(partial, n_sites=scale.sites, adm3_count=scale.adm3, seed=scale.seed)
            partial.rename(self.geo_dir)  # only a complete country is ever found and reused
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
        self.tokens.coordinator = member(self.tokens.coordinator_email, "coordinator",
                                         password=self.tokens.coordinator_password)
        self.tokens.viewer = member(self.tokens.viewer_email, "viewer", password=self.tokens.viewer_password)
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

    def record_files(self) -> list[Path]:
        """A large world's submissions as gzipped JSON lines under bench/data, generated once
        (two processes, a file per 5,000 sites) and reused while they are under a week old:
        their assessment dates are days before the day they were made, so older files would
        drift into other recency classes and move the figures."""
        folder = DATA_DIR / self.scale.name / "records"
        complete = folder / "COMPLETE"
        if complete.exists() and date.fromisoformat(complete.read_text().strip()) >= date.today() - timedelta(days=7):
            return sorted(folder.glob("part-*.jsonl.gz"))
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("part-*"):
            old.unlink()
        complete.unlink(missing_ok=True)
        sites = read_site_infos(self.geography() / "sites.csv")
        self.log(f"generating {len(sites) * SUBMISSIONS_PER_SITE:,} synthetic submissions into {folder}")
        jobs = [(folder / f"part-{i // 5000:04d}.jsonl.gz", sites[i:i + 5000], i * SUBMISSIONS_PER_SITE + 1)
                for i in range(0, len(sites), 5000)]
        with ProcessPoolExecutor(max_workers=2) as pool:
            files = list(pool.map(_write_record_file, jobs))
        complete.write_text(date.today().isoformat() + "\n")
        return files

    def iter_records(self) -> Iterator[dict]:
        """Every submission of this world, one at a time (a large world's never all in memory)."""
        if self.scale.name == "10k":
            yield from self.records()
            return
        for path in self.record_files():
            with gzip.open(path, "rb") as handle:
                for line in handle:
                    yield orjson.loads(line)

    def loaded(self) -> str:
        """A database holding the world's submissions (stored here unless a benchmark did)."""
        if "loaded" not in self._built:
            url = self.copy_database(self.world(), "loaded")
            database = Database(url)
            self.log("storing the submissions through the ingestion path")
            if self.scale.name == "10k":
                ingest_batches(database, self.records())
            else:
                from crisis_ct.kobo.importer import batches, store_batches

                store_batches(database, ASSET_UID, batches(self.iter_records(), BATCH), via="import")
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


def _write_record_file(job: tuple[Path, list[SiteInfo], int]) -> Path:
    # Runs in a worker process.
    path, sites, first_kobo_id = job
    with gzip.open(path.with_suffix(".tmp"), "wb", compresslevel=1) as handle:
        for start in range(0, len(sites), 500):
            kobo_id = first_kobo_id + start * SUBMISSIONS_PER_SITE
            for record in _make_records((sites[start:start + 500], kobo_id)):
                handle.write(orjson.dumps(record) + b"\n")
    path.with_suffix(".tmp").rename(path)
    return path


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
