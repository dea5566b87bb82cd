"""What a batch finds in the database before storing (the Ingestor's prefetch), and that
its two ways of writing rows (PostgreSQL COPY for a batch, INSERT for a single record)
store the same thing."""
from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from crisis_ct.kobo.importer import batches, store_batches
from crisis_ct.kobo.ingest import Ingestor
from crisis_ct.kobo.ingest_sql import prefetch_statement
from crisis_ct.kobo.models import KoboAsset, QuarantinedSubmission, Submission, SubmissionVersion
from crisis_ct.kobo.synthetic import make_edit
from crisis_ct.scoring.queue import ScoringQueueEntry
from tests.support.kobo_world import ASSET_UID, SubmissionMaker, build_world


@pytest.fixture
def world(database, seed, tmp_path):
    return build_world(database, seed, tmp_path)


def _edit(record: dict, role: str, seed: int) -> dict:
    return make_edit(record, {"site/ki_role": role}, rng=random.Random(seed))


def _mixed_records():
    """A first batch, then one batch holding a record of each kind."""
    maker = SubmissionMaker(seed=31)
    a, b, c, d, e = (maker.make(site) for site in ("S1", "S2", "S3", "S4", "S1"))
    b2, c2, e2 = _edit(b, "women_rep", 1), _edit(c, "women_rep", 2), _edit(e, "youth_rep", 3)
    unknown_site = maker.make("S99")
    first = [a, b2, c]  # b's edit is stored before b itself arrives
    mixed = [d, a, b, c2, unknown_site, e2, e]
    kinds = ["stored", "duplicate", "history", "updated", "quarantined", "stored", "history"]
    return first, mixed, kinds, {"a": a, "b": b, "b2": b2, "c2": c2, "e": e, "e2": e2, "bad": unknown_site}


def _stored_state(database) -> dict:
    """Every row the ingestion wrote, without its ids and times."""
    with database.session() as session:
        submissions = sorted(
            (s.instance_id, s.chain_key, s.kobo_id, s.site_id, s.matched_by, s.version_count, s.ki_role,
             s.form_version, s.assessment_date, s.submitted_at, s.received_via, s.answers)
            for s in session.scalars(sa.select(Submission)))
        owner = dict(session.execute(sa.select(Submission.id, Submission.instance_id)).all())
        versions = sorted(
            (v.instance_id, v.deprecated_id, owner[v.submission_id], v.received_via, sorted(v.raw.items()))
            for v in session.scalars(sa.select(SubmissionVersion)))
        quarantined = sorted((q.instance_id, q.reason_code, q.status, q.attempts)
                             for q in session.scalars(sa.select(QuarantinedSubmission)))
        queued = sorted(session.scalars(sa.select(ScoringQueueEntry.site_id)))
    return {"submissions": submissions, "versions": versions, "quarantined": quarantined, "queued": queued}


def test_a_batch_of_every_kind_of_record_stores_each_as_its_kind(database, world):
    first, mixed, kinds, named = _mixed_records()
    store_batches(database, ASSET_UID, [first], via="import")
    with database.session() as session:
        asset = session.scalar(sa.select(KoboAsset).where(KoboAsset.asset_uid == ASSET_UID))
        outcomes = Ingestor(session, asset, via="import").ingest(mixed)
    assert [o.status for o in outcomes] == kinds
    assert outcomes[4].reason_code == "unknown_site"

    state = _stored_state(database)
    current = {row[0]: row for row in state["submissions"]}
    assert set(current) == {named["a"]["meta/instanceID"], named["b2"]["meta/instanceID"],
                            named["c2"]["meta/instanceID"], mixed[0]["meta/instanceID"],
                            named["e2"]["meta/instanceID"]}
    # (instance id, ..., version count, ki role): edits win whichever arrived first
    assert current[named["b2"]["meta/instanceID"]][5:7] == (2, "women_rep")
    assert current[named["c2"]["meta/instanceID"]][5:7] == (2, "women_rep")
    assert current[named["e2"]["meta/instanceID"]][5:7] == (2, "youth_rep")
    assert len(state["versions"]) == 3 + 5  # every version but the duplicate and the bad record
    older = {row[0]: row[2] for row in state["versions"]}
    assert older[named["b"]["meta/instanceID"]] == named["b2"]["meta/instanceID"]
    assert older[named["e"]["meta/instanceID"]] == named["e2"]["meta/instanceID"]
    assert state["quarantined"] == [(named["bad"]["meta/instanceID"], "unknown_site", "pending", 1)]


def test_batches_and_single_records_store_the_same_rows(database, world):
    """On PostgreSQL a batch goes in by COPY and a single record by INSERT; on SQLite both
    are INSERTs. The same records either way leave the same rows."""
    first, mixed, _kinds, _named = _mixed_records()
    records = first + mixed
    tally_one_by_one = store_batches(database, ASSET_UID, batches(records, 1), via="import")
    one_by_one = _stored_state(database)
    with database.session() as session:
        for table in (SubmissionVersion, Submission, QuarantinedSubmission, ScoringQueueEntry):
            session.execute(sa.delete(table))
    tally_batched = store_batches(database, ASSET_UID, [first, mixed], via="import")
    assert _stored_state(database) == one_by_one
    assert tally_batched.as_dict() == tally_one_by_one.as_dict()
    assert (tally_batched.stored, tally_batched.updated, tally_batched.history, tally_batched.duplicates,
            tally_batched.quarantined) == (5, 1, 2, 1, 1)


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _plan_nodes(child)


def test_the_postgres_prefetch_looks_each_value_up_by_index_without_statistics(database, world, backend):
    """A first import fills tables that have no column statistics yet. The prefetch must then
    still look each id, key and Kobo id up in its index: a plan reading every submission of
    the operation and filtering it grows with each batch (0.4 s a batch at 100,000)."""
    if backend != "postgis":
        pytest.skip("PostgreSQL plans")
    maker = SubmissionMaker(seed=32)
    store_batches(database, ASSET_UID, batches([maker.make(f"S{1 + i % 4}") for i in range(600)], 300),
                  via="import")
    with database.engine.begin() as connection:  # the state of a table in its first import
        connection.exec_driver_sql(
            "DELETE FROM pg_statistic WHERE starelid IN ('submissions'::regclass, 'submission_versions'::regclass)")
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if context.compiled is not None and context.compiled.statement is prefetch_statement(True, True):
            captured.append((statement, parameters))

    sa.event.listen(database.engine, "before_cursor_execute", capture)
    try:
        records = [maker.make(f"S{1 + i % 4}") for i in range(300)]
        store_batches(database, ASSET_UID, [records], via="import")
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", capture)
    (statement, parameters), = captured
    connection = database.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
        plan = cursor.fetchone()[0][0]["Plan"]
    finally:
        connection.close()
    scans = [node for node in _plan_nodes(plan)
             if node.get("Relation Name") in ("submissions", "submission_versions")]
    assert scans
    for node in scans:
        assert node["Node Type"] != "Seq Scan"
        assert node.get("Rows Removed by Filter", 0) == 0, node
        assert node["Actual Rows"] <= 1, node  # per probe (loop): the one row it names, or none
