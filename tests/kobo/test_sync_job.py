"""The worker's kobo.sync job: every project with a server, each at its own interval,
against the fake Kobo server."""
from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from crisis_ct.cli import main
from crisis_ct.jobs.models import ScheduledJob
from crisis_ct.jobs.registry import registered_jobs
from crisis_ct.jobs.runner import JobRunner
from crisis_ct.kobo.client import KoboClient
from crisis_ct.kobo.models import KoboAsset, Submission
from crisis_ct.timeutil import utcnow
from tests.support.kobo_world import SubmissionMaker, form

UID = "aJobAsset0001"
TOKEN = "test-token"


def test_the_sync_job_pulls_due_projects_at_their_interval(app, database, seed, fake_kobo, tmp_path, monkeypatch):
    from crisis_ct.geography.importers import read_sites
    from crisis_ct.geography.operations import get_operation, import_sites
    from tests.support.geo_fixtures import write_sites_csv
    from tests.support.kobo_world import ACTOR, SITES

    seed.operation("op1")
    with database.session() as session:
        import_sites(session, ACTOR, get_operation(session, "op1"),
                     read_sites(write_sites_csv(tmp_path / "sites.csv", SITES[:1])))
    fake_kobo.add_asset(UID, content=form().to_asset_content(), version="v1")
    app.extensions["kobo_client_factory"] = lambda url, token: KoboClient(url, token, sleep=lambda _s: None)
    monkeypatch.setenv("KOBO_TOKEN_JOB", TOKEN)
    cli = app.test_cli_runner()
    result = cli.invoke(main, ["kobo", "connect", "--operation", "op1", "--asset", UID, "--server",
                               fake_kobo.base_url, "--token-env", "KOBO_TOKEN_JOB"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    maker = SubmissionMaker()
    records = [dict(maker.make("S1"), _xform_id_string=UID, __version__="v1") for _ in range(3)]
    fake_kobo.add_records(UID, records)

    job, = registered_jobs(["kobo.sync"])
    worker = JobRunner(app, database, [job], "host:1", threading.Event())
    worker.prepare()
    with app.app_context():
        worker.run_due()
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 3
        row = session.get(ScheduledJob, "kobo.sync")
        assert row.last_outcome == "ok" and "3 stored" in row.last_summary

    # Due again a minute later, but the project syncs only every 15 minutes by default …
    def run_at(offset: timedelta) -> int:
        with database.session() as session:
            session.get(ScheduledJob, "kobo.sync").next_run_at = utcnow()
            session.scalar(sa.select(KoboAsset)).last_sync_at = utcnow() - offset
        before = len(fake_kobo.data_requests(UID))
        with app.app_context():
            worker.run_due()
        return len(fake_kobo.data_requests(UID)) - before

    assert run_at(timedelta(minutes=5)) == 0
    assert run_at(timedelta(minutes=16)) > 0
    # … or at the interval set for it.
    result = cli.invoke(main, ["jobs", "kobo-sync-every", UID, "60"], catch_exceptions=False)
    assert result.exit_code == 0
    assert run_at(timedelta(minutes=16)) == 0
    assert run_at(timedelta(minutes=61)) > 0
