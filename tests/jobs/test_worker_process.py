"""`crisis-ct worker` as its own process, with a site whose scores the database refuses
(a trigger: a real failure, not a patched function): the other sites are scored, the
failing one stays queued with its error, and the worker goes on."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from crisis_ct.kobo.importer import load_asset, store_batch
from crisis_ct.scoring.models import SiteRiskScore
from crisis_ct.scoring.queue import ScoringQueueEntry
from tests.support.kobo_world import ASSET_UID, SubmissionMaker, build_world

CRISIS_CT = str(Path(sys.executable).parent / "crisis-ct")


def refuse_scores_of(database, site_id: int) -> None:
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.site_id = {site_id} THEN RAISE EXCEPTION 'this site cannot be stored'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql")
            connection.exec_driver_sql("CREATE TRIGGER refuse_poison BEFORE INSERT ON site_risk_scores "
                                       "FOR EACH ROW EXECUTE FUNCTION refuse_poison()")
        else:
            connection.exec_driver_sql(
                f"CREATE TRIGGER refuse_poison BEFORE INSERT ON site_risk_scores WHEN NEW.site_id = {site_id} "
                "BEGIN SELECT RAISE(ABORT, 'this site cannot be stored'); END")


def drop_refusal(database) -> None:
    with database.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS refuse_poison" +
                                   (" ON site_risk_scores" if database.dialect == "postgresql" else ""))


def test_the_worker_scores_the_others_when_one_site_always_fails(database, seed, tmp_path):
    from crisis_ct.geography.models import Site

    build_world(database, seed, tmp_path)
    with database.session() as session:
        ids = dict(session.execute(sa.select(Site.site_code, Site.id)).all())
    refuse_scores_of(database, ids["S2"])
    try:
        maker = SubmissionMaker(2)
        with database.session() as session:
            store_batch(session, load_asset(session, ASSET_UID),
                        [maker.make(code) for code in ("S1", "S2", "S3", "S4") for _ in range(2)],
                        via="webhook", match_distance_m=500)
        log = tmp_path / "worker.log"
        env = dict(os.environ, CRISIS_CT_DATABASE_URL=database.url, CRISIS_CT_SECRET_KEY="test",
                   CRISIS_CT_VAR_DIR=str(tmp_path / "var"))
        with log.open("w") as out:
            worker = subprocess.Popen([CRISIS_CT, "worker", "--job", "scoring.queue"], env=env, stdout=out,
                                      stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with database.session() as session:
                    scored = set(session.scalars(sa.select(SiteRiskScore.site_id).where(SiteRiskScore.is_current)))
                    failing = session.get(ScoringQueueEntry, ids["S2"])
                    if scored >= {ids["S1"], ids["S3"], ids["S4"]} and failing is not None and failing.attempts:
                        break
                time.sleep(0.3)
            assert worker.poll() is None, log.read_text()
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=15)
        assert scored == {ids["S1"], ids["S3"], ids["S4"]}
        assert failing.attempts >= 1 and "cannot be stored" in failing.last_error
        output = log.read_text()
        assert "re-scoring site" in output and "failed (attempt 1)" in output
        assert "Traceback" not in output and worker.returncode == 0
    finally:
        drop_refusal(database)
