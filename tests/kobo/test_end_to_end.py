"""The ingestion's done-when checks, end to end through HTTP and the CLI, on both databases."""
from __future__ import annotations

import random
import subprocess

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from crisis_ct.app import create_app
from crisis_ct.cli import main
from crisis_ct.db import Database, upgrade
from crisis_ct.kobo.models import QuarantinedSubmission, Submission, SubmissionVersion
from crisis_ct.kobo.synthetic import make_edit
from tests.conftest import Seed, auth
from tests.support.geo_fixtures import write_sites_csv
from tests.support.kobo_world import SubmissionMaker, build_world, count
from tests.support.throwaway_postgis import ThrowawayPostgis

URL = "/api/v1/kobo/submissions"


# -- 1. duplicates, shuffled order, edits before originals -------------------------------------------
def test_a_thousand_submissions_sent_twice_shuffled_with_edits_end_at_their_latest_version(
        client, database, seed, tmp_path):
    build_world(database, seed, tmp_path)
    token = seed.member("kobo@example.org", "submitter")
    maker, rng = SubmissionMaker(seed=11), random.Random(12)
    originals = [maker.make(f"S{1 + i % 4}", risk=rng.random()) for i in range(1000)]
    edits = [make_edit(record, {"site/ki_role": "site_manager", "end": "2026-11-03T10:00:00.000+00:00"}, rng=rng)
             for record in rng.sample(originals, 100)]
    sends = [(record, "original") for record in originals] * 2 + [(edit, "edit") for edit in edits] * 2
    rng.shuffle(sends)
    first_sent = {}
    for position, (record, _) in enumerate(sends):
        first_sent.setdefault(record["meta/instanceID"], position)
    edits_first = [e for e in edits if first_sent[e["meta/instanceID"]] < first_sent[e["meta/deprecatedID"]]]
    assert edits_first, "the shuffle must send some edits before their originals"

    statuses = {client.post(URL, json=record, headers=auth(token)).status_code for record, _ in sends}
    assert statuses <= {200, 201}

    latest = {record["_id"]: record["meta/instanceID"] for record in originals}
    latest.update({edit["_id"]: edit["meta/instanceID"] for edit in edits})
    with database.session() as session:
        current = dict(session.execute(sa.select(Submission.kobo_id, Submission.instance_id)).all())
        edited_counts = set(session.scalars(sa.select(Submission.version_count)
                                            .where(Submission.kobo_id.in_([e["_id"] for e in edits]))))
    assert len(current) == 1000
    assert current == latest
    assert edited_counts == {2}
    assert count(database, SubmissionVersion) == 1100 and count(database, QuarantinedSubmission) == 0


# -- 2. unknown site: quarantined, then stored after import-sites + replay ---------------------------
def test_an_unknown_site_is_quarantined_then_stored_after_import_sites_and_replay(app, client, database, seed,
                                                                                   tmp_path):
    build_world(database, seed, tmp_path)
    token = seed.member("kobo@example.org", "submitter")
    record = SubmissionMaker().make("S9", site_type="planned_camp")
    record["site/location"] = "30.0 30.0 0 5"
    response = client.post(URL, json=record, headers=auth(token))
    assert response.status_code == 202 and response.get_json()["reason_code"] == "unknown_site"
    assert count(database, Submission) == 0

    runner = app.test_cli_runner()
    sites = write_sites_csv(tmp_path / "new-sites.csv", [("S9", "Camp nine", "planned_camp", 0.2, 0.2, 100, 20)])
    imported = runner.invoke(main, ["geo", "import-sites", str(sites), "--operation", "op1"])
    assert imported.exit_code == 0, imported.output
    replayed = runner.invoke(main, ["kobo", "replay"])
    assert replayed.exit_code == 0, replayed.output
    with database.session() as session:
        stored = session.scalars(sa.select(Submission)).one()
        quarantined = session.scalars(sa.select(QuarantinedSubmission)).one()
    assert stored.instance_id == record["meta/instanceID"]
    assert (quarantined.status, quarantined.submission_id) == ("replayed", stored.id)


# -- 3. database stopped: 503, then stored after restart ---------------------------------------------
def pg_ctl(server: ThrowawayPostgis, action: str) -> None:
    """Stop/start the server keeping its data (ThrowawayPostgis.stop also deletes it)."""
    options = f"-k {server.root} -c listen_addresses='' -c fsync=off -c max_connections=50"
    args = ["pg_ctl", "-D", str(server.data), "-l", str(server.log), "-w", action]
    args += ["-m", "fast"] if action == "stop" else ["-o", options]
    subprocess.run(server._cmd(*args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class _Outage:
    """Makes the database unavailable to the app, and back."""

    def __init__(self, backend: str, app, database: Database, server: ThrowawayPostgis | None):
        self.backend, self.app, self.database, self.server = backend, app, database, server
        self._holder = None
        if backend == "sqlite":
            # On SQLite "stopped" is another process holding the write lock: every transaction of
            # the app (BEGIN IMMEDIATE) waits, then fails. A short wait keeps the test quick.
            engine = app.extensions["crisis_ct_db"].engine

            @event.listens_for(engine, "connect")
            def _short_busy_timeout(dbapi_connection, _record):
                dbapi_connection.execute("PRAGMA busy_timeout=200")

    def start(self) -> None:
        if self.backend == "postgis":
            pg_ctl(self.server, "stop")
            return
        self._holder = self.database.engine.raw_connection()
        self._holder.cursor().execute("BEGIN IMMEDIATE")

    def end(self) -> None:
        if self.backend == "postgis":
            pg_ctl(self.server, "start")
            return
        self._holder.cursor().execute("ROLLBACK")
        self._holder.close()


@pytest.fixture
def outage_world(backend, _migrated, tmp_path):
    """A database of its own (on PostGIS a private server, which this test stops), with the world."""
    server = None
    if backend == "postgis":
        server = ThrowawayPostgis().start()
        url = server.create_database("outage")
    else:
        url = f"sqlite:///{tmp_path / 'outage.sqlite'}"
    database = Database(url)
    upgrade(database)
    seed = Seed(database)
    build_world(database, seed, tmp_path)
    token = seed.member("kobo@example.org", "submitter")
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test-secret"})
    outage = _Outage(backend, app, database, server)
    yield app, database, token, outage
    app.extensions["crisis_ct_db"].dispose()
    database.dispose()
    if server is not None:
        server.stop()


def test_with_the_database_stopped_the_webhook_answers_503_and_a_resend_is_stored_after(outage_world):
    app, database, token, outage = outage_world
    client = app.test_client()
    maker = SubmissionMaker()
    before, during = maker.make("S1"), maker.make("S2")
    assert client.post(URL, json=before, headers=auth(token)).status_code == 201
    with database.session() as session:
        kept = session.scalars(sa.select(Submission)).one()

    outage.start()
    try:
        response = client.post(URL, json=during, headers=auth(token))
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "unavailable"
        assert set(response.get_json()["error"]) == {"code", "message", "details"}
    finally:
        outage.end()

    assert client.post(URL, json=during, headers=auth(token)).status_code == 201
    assert client.post(URL, json=before, headers=auth(token)).status_code == 200  # Kobo may re-send it too
    with database.session() as session:
        rows = {s.instance_id: s for s in session.scalars(sa.select(Submission))}
    assert set(rows) == {before["meta/instanceID"], during["meta/instanceID"]}
    unchanged = rows[before["meta/instanceID"]]
    assert (unchanged.id, unchanged.updated_at, unchanged.version_count) == (kept.id, kept.updated_at, 1)
    assert count(database, SubmissionVersion) == 2 and count(database, QuarantinedSubmission) == 0
