"""Offline import of Kobo exports: JSON, XLSX and CSV store what the webhook stores."""
from __future__ import annotations

import json
import random

import pytest
import sqlalchemy as sa

from crisis_ct.cli import main
from crisis_ct.geography.models import Site
from crisis_ct.kobo.exports import ExportError
from crisis_ct.kobo.importer import ImportError_, import_export
from crisis_ct.kobo.models import QuarantinedSubmission, Submission, SubmissionVersion
from crisis_ct.kobo.synthetic import make_edit
from crisis_ct.scoring.queue import ScoringQueueEntry
from tests.conftest import auth
from tests.support.kobo_world import ASSET_UID, SubmissionMaker, build_world, form

from test_exports import write_csv, write_xlsx  # noqa: E402  (tests/kobo is on sys.path: the export writers)


@pytest.fixture
def world(database, seed, tmp_path):
    return build_world(database, seed, tmp_path)


@pytest.fixture
def submissions() -> list[dict]:
    maker = SubmissionMaker(seed=7)
    records = [maker.make(f"S{1 + i % 4}", risk=0.2 * (i % 5)) for i in range(10)]
    records.append(make_edit(records[2], {"site/ki_role": records[5].get("site/ki_role") or "site_manager"},
                             rng=random.Random(1)))
    unknown = maker.make("S9", site_type="planned_camp")
    unknown["site/location"] = "30.0 30.0 0 5"
    return records + [unknown]


def write_json(path, records):
    path.write_text(json.dumps({"count": len(records), "next": None, "previous": None, "results": records}))
    return path


def snapshot(database) -> dict:
    """What a submission stores, by Kobo `_id` (everything but how it arrived)."""
    with database.session() as session:
        rows = session.execute(sa.select(Submission, Site.site_code).join(Site, Site.id == Submission.site_id)).all()
        quarantined = session.scalars(sa.select(QuarantinedSubmission.reason_code)).all()
    return {
        "submissions": {s.kobo_id: (s.instance_id, code, s.assessment_date, s.submitted_at, s.ki_role, s.ki_sex,
                                    s.form_version, s.answers, s.matched_by, s.version_count) for s, code in rows},
        "quarantined": sorted(quarantined),
    }


def clear_submissions(database):
    with database.session() as session:
        for model in (SubmissionVersion, QuarantinedSubmission, ScoringQueueEntry, Submission):
            session.execute(sa.delete(model))


def test_json_xlsx_csv_and_webhook_store_identical_submissions(app, database, world, seed, tmp_path, submissions):
    results = {}
    writers = {"json": write_json, "xlsx": lambda p, r: write_xlsx(p, r, form()),
               "csv": lambda p, r: write_csv(p, r, form())}
    for kind, write in writers.items():
        path = tmp_path / f"export.{kind}"
        write(path, submissions)
        tally = import_export(database, path, ASSET_UID)
        assert (tally.stored, tally.updated, tally.quarantined) == (10, 1, 1), kind
        results[kind] = snapshot(database)
        clear_submissions(database)

    token = seed.member("kobo@example.org", "submitter")
    web = app.test_client()
    for record in submissions:
        web.post("/api/v1/kobo/submissions", json=record, headers=auth(token))
    results["webhook"] = snapshot(database)

    assert len(results["json"]["submissions"]) == 10
    assert results["json"]["quarantined"] == ["unknown_site"]
    assert results["xlsx"] == results["json"]
    assert results["csv"] == results["json"]
    assert results["webhook"] == results["json"]


def test_import_is_committed_batch_by_batch_and_resumes_without_duplicates(database, world, tmp_path, submissions):
    full = write_json(tmp_path / "full.json", submissions[:10])
    broken = tmp_path / "broken.json"
    text = full.read_text()
    broken.write_text(text[:text.index(f'"_id": {submissions[9]["_id"]}')])  # cut inside the 10th record
    with pytest.raises(ExportError, match="broken.json"):
        import_export(database, broken, ASSET_UID, batch_size=4)
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 8

    tally = import_export(database, full, ASSET_UID, batch_size=4)
    assert (tally.read, tally.stored, tally.duplicates) == (10, 2, 8)
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SubmissionVersion)) == 10


def test_import_for_an_unconnected_asset_stores_nothing(database, world, tmp_path, submissions):
    path = write_json(tmp_path / "x.json", submissions)
    with pytest.raises(ImportError_, match="kobo connect"):
        import_export(database, path, "aNotConnected")


def test_import_command_prints_the_summary_and_rescores(app, database, world, tmp_path, submissions):
    path = tmp_path / "export.csv"
    write_csv(path, submissions, form())
    runner = app.test_cli_runner()
    first = runner.invoke(main, ["kobo", "import", str(path), "--asset", ASSET_UID], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "12 read: 10 stored, 1 updated, 0 older versions, 0 duplicates, 1 quarantined" in first.output
    again = runner.invoke(main, ["kobo", "import", str(path), "--asset", ASSET_UID])
    assert "0 stored, 0 updated, 0 older versions, 11 duplicates, 1 quarantined" in again.output
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ScoringQueueEntry)) == 0


def test_import_command_names_the_file_row_and_column_of_a_bad_export(app, world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("_id;_uuid\n1;a\nabc;b\n")
    result = app.test_cli_runner().invoke(main, ["kobo", "import", str(path), "--asset", ASSET_UID])
    assert result.exit_code != 0
    assert "bad.csv, row 3, column '_id'" in result.output
