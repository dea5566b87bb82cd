"""`crisis-ct db backup FILE` / `db restore FILE`: a round trip on both databases brings
back exactly what was backed up (SQLite's online backup API; pg_dump/pg_restore)."""
from __future__ import annotations

import sqlalchemy as sa

from crisis_ct.cli import main
from crisis_ct.kobo.importer import load_asset, store_batch
from crisis_ct.kobo.models import Submission
from crisis_ct.scoring.models import SiteRiskScore
from crisis_ct.scoring.service import process_queue
from tests.support.kobo_world import ASSET_UID, SubmissionMaker, build_world


def snapshot(database) -> dict:
    with database.session() as session:
        return {
            "submissions": sorted(session.scalars(sa.select(Submission.instance_id))),
            "scores": sorted(session.execute(sa.select(SiteRiskScore.site_id, SiteRiskScore.phase,
                                                       SiteRiskScore.is_current)).all()),
        }


def test_backup_then_restore_brings_back_what_was_backed_up(app, database, seed, tmp_path):
    build_world(database, seed, tmp_path)
    maker = SubmissionMaker(4)
    with database.session() as session:
        store_batch(session, load_asset(session, ASSET_UID), [maker.make(code) for code in ("S1", "S2", "S3")],
                    via="webhook", match_distance_m=500)
    with database.session() as session:
        process_queue(session)
    before = snapshot(database)
    assert len(before["submissions"]) == 3 and before["scores"]

    cli = app.test_cli_runner()
    backup_file = tmp_path / "backups" / "crisis-ct.backup"
    result = cli.invoke(main, ["db", "backup", str(backup_file)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert backup_file.stat().st_size > 0

    # Life goes on after the backup: more data, some removed.
    with database.session() as session:
        store_batch(session, load_asset(session, ASSET_UID), [maker.make("S4")], via="webhook", match_distance_m=500)
        session.execute(sa.delete(SiteRiskScore))
    assert snapshot(database) != before

    app.extensions["crisis_ct_db"].dispose()
    database.dispose()
    result = cli.invoke(main, ["db", "restore", str(backup_file), "--yes"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert snapshot(database) == before


def test_restore_of_a_missing_file_fails_clearly(app, tmp_path):
    result = app.test_cli_runner().invoke(main, ["db", "restore", str(tmp_path / "nope.backup"), "--yes"])
    assert result.exit_code != 0 and "no such file" in result.output
