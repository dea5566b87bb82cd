"""Done-when of the scoring issue: on a 10,000-site operation, `crisis-ct score --all`
and the incremental path (the queue the webhook fills) agree on every site."""
import random
import sys
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from crisis_ct.accounts.audit import Actor
from crisis_ct.geography.importers import read_admin_areas, read_sites
from crisis_ct.geography.models import Site
from crisis_ct.geography.operations import get_operation, import_admin_areas, import_sites
from crisis_ct.kobo.forms import add_form_version, bundled_form, register_asset
from crisis_ct.kobo.ingest import Ingestor
from crisis_ct.kobo.synthetic import make_submission
from crisis_ct.scoring.models import SiteRiskScore
from crisis_ct.scoring.queue import ScoringQueueEntry
from crisis_ct.scoring.service import process_queue, score_all
from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))
from geo.demo_country import generate  # noqa: E402

SITES = 10_000
ACTOR = Actor.system("test")


def _current_scores(session) -> dict[int, tuple]:
    return {row.site_id: (row.phase, row.confidence, row.explanation)
            for row in session.scalars(sa.select(SiteRiskScore).where(SiteRiskScore.is_current))}


def test_score_all_agrees_with_incremental_scoring_on_10000_sites(seed, database, tmp_path):
    generate(tmp_path, n_sites=SITES, adm3_count=1_000)
    seed.operation("big")
    form = bundled_form()
    rng = random.Random(42)
    today = date.today()
    with database.session() as session:
        operation = get_operation(session, "big")
        for level in (1, 2, 3):
            import_admin_areas(session, ACTOR, operation, read_admin_areas(tmp_path / f"adm{level}.geojson", level))
        import_sites(session, ACTOR, operation, read_sites(tmp_path / "sites.csv"))
        asset = register_asset(session, operation.id, "aBigAsset", name="big")
        add_form_version(session, asset, form)
        sites = session.execute(sa.select(Site.site_code, Site.site_type).order_by(Site.id)).all()
        records = []
        for number, (code, site_type) in enumerate(sites, start=1):
            # One or two interviews per site keeps the test quick; risk varies so phases vary.
            for extra in range(1 + number % 2):
                assessed = today - timedelta(days=rng.randint(1, 200))
                records.append(make_submission(
                    form, site_code=code, site_type=site_type, assessment_date=assessed,
                    submitted_at=datetime.combine(assessed, datetime.min.time(), tzinfo=timezone.utc),
                    kobo_id=number * 2 + extra, asset_uid="aBigAsset", version=form.version, rng=rng,
                    risk=rng.choice((0.02, 0.1, 0.3, 0.5))))
        ingestor = Ingestor(session, asset, via="import")
        for start in range(0, len(records), 1000):
            ingestor.ingest(records[start:start + 1000])
        assert session.scalar(sa.select(sa.func.count()).select_from(ScoringQueueEntry)) == SITES

    with database.session() as session:
        assert process_queue(session, batch=2000) == SITES
    with database.session() as session:
        incremental = _current_scores(session)
        score_all(session, operation.id, parallel=True)  # the CLI path: worker processes on PostGIS
    with database.session() as session:
        full = _current_scores(session)

    assert len(incremental) == SITES
    assert full == incremental
    assert len({phase for phase, _, _ in full.values()}) >= 3
