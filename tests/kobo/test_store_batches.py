"""importer.store_batches: the bulk import's pipelined storing (the next batch is read while
the current one is stored), and what the stored payloads look like."""
from __future__ import annotations

import gc
import random

import pytest
import sqlalchemy as sa

from crisis_ct.kobo.importer import batches, store_batches
from crisis_ct.kobo.ingest import Ingestor
from crisis_ct.kobo.models import KoboAsset, Submission, SubmissionVersion
from crisis_ct.kobo.synthetic import make_edit
from tests.support.kobo_world import ASSET_UID, SubmissionMaker, build_world, count


@pytest.fixture
def world(database, seed, tmp_path):
    return build_world(database, seed, tmp_path)


def test_batches_are_stored_in_order_across_edits_and_duplicates(database, world):
    maker = SubmissionMaker(seed=11)
    originals = [maker.make(f"S{1 + i % 4}") for i in range(7)]
    edit = make_edit(originals[1], {"site/ki_role": "women_rep"}, rng=random.Random(2))
    records = originals + [originals[0], edit]  # a re-send and an edit, in a later batch
    tally = store_batches(database, ASSET_UID, batches(records, 3), via="import")
    assert (tally.read, tally.stored, tally.updated, tally.duplicates, tally.quarantined) == (9, 7, 1, 1, 0)
    with database.session() as session:
        edited = session.scalar(sa.select(Submission).where(Submission.kobo_id == originals[1]["_id"]))
        assert (edited.version_count, edited.ki_role, edited.instance_id) == (2, "women_rep", edit["meta/instanceID"])
    assert count(database, SubmissionVersion) == 8


def test_a_failing_source_keeps_the_batches_before_it(database, world):
    maker = SubmissionMaker(seed=12)
    good = [[maker.make("S1"), maker.make("S2")], [maker.make("S3")]]

    def source():
        yield from good
        raise ValueError("export cut short")

    with pytest.raises(ValueError, match="cut short"):
        store_batches(database, ASSET_UID, source(), via="import")
    assert count(database, Submission) == 3


def test_progress_is_reported_per_batch(database, world):
    maker = SubmissionMaker(seed=13)
    seen: list[int] = []
    store_batches(database, ASSET_UID, batches([maker.make("S1") for _ in range(5)], 2), via="import",
                  progress=seen.append)
    assert seen == [2, 2, 1]


def test_records_the_reader_left_are_read_by_the_ingestor(database, world):
    maker = SubmissionMaker(seed=14)
    records = [maker.make("S1"), maker.make("S2")]
    with database.session() as session:
        asset = session.scalar(sa.select(KoboAsset).where(KoboAsset.asset_uid == ASSET_UID))
        outcomes = Ingestor(session, asset, via="import").ingest(records, read=[None, None])
    assert [o.status for o in outcomes] == ["stored", "stored"]


def test_a_version_that_is_not_text_is_quarantined(database, world):
    record = {**SubmissionMaker(seed=15).make("S1"), "__version__": ["v1"]}
    tally = store_batches(database, ASSET_UID, [[record]], via="import")
    assert tally.quarantined == 1


def test_the_raw_payload_keeps_the_order_of_its_keys(database, world):
    maker = SubmissionMaker(seed=16)
    record = maker.make("S1")
    # Longest key first, then a short one: jsonb would store them shortest first.
    reordered = {"zz_a_long_trailing_extra_key": 1, "b": 2, **record}
    store_batches(database, ASSET_UID, [[reordered, maker.make("S2")]], via="import")
    with database.session() as session:
        raw = session.scalar(sa.select(SubmissionVersion.raw).where(
            SubmissionVersion.instance_id == record["meta/instanceID"]))
    assert list(raw) == list(reordered)


def test_dates_in_answers_are_stored_as_iso_text(database, world):
    maker = SubmissionMaker(seed=18)
    record = maker.make("S1")
    store_batches(database, ASSET_UID, [[record, maker.make("S2")]], via="import")
    with database.session() as session:
        answers = session.scalar(sa.select(Submission.answers).where(Submission.kobo_id == record["_id"]))
    assert answers["assessment_date"] == record["site/assessment_date"]
    assert answers["start"] == "2026-11-01T15:56:00+00:00" == record["start"].replace(".000", "")


def test_special_characters_are_stored_verbatim_and_recognised_when_sent_again(database, world):
    maker = SubmissionMaker(seed=19)
    awkward = 'tab\there, new\nline, back\\slash, "quoted", ünïcode'
    record = {**maker.make("S1"), "site/enumerator_team": awkward, "meta/instanceID": 'uuid:odd"id\\1',
              "extra\tkey": awkward}
    other = maker.make("S2")
    first = store_batches(database, ASSET_UID, [[record, other]], via="import")
    again = store_batches(database, ASSET_UID, [[record, other]], via="import")
    assert (first.stored, again.duplicates, again.stored) == (2, 2, 0)
    with database.session() as session:
        stored = session.scalar(sa.select(Submission).where(Submission.kobo_id == record["_id"]))
        raw = session.scalar(sa.select(SubmissionVersion.raw).where(
            SubmissionVersion.instance_id == record["meta/instanceID"]))
    assert stored.instance_id == record["meta/instanceID"]
    assert stored.answers["enumerator_team"] == awkward.strip()
    assert raw == record


def test_an_edit_in_the_same_batch_as_its_original_leaves_one_submission_with_the_edit(database, world):
    maker = SubmissionMaker(seed=20)
    original = maker.make("S1")
    edit = make_edit(original, {"site/ki_role": "women_rep"}, rng=random.Random(3))
    tally = store_batches(database, ASSET_UID, [[original, maker.make("S2"), edit]], via="import")
    assert (tally.stored, tally.updated) == (2, 1)
    with database.session() as session:
        stored = session.scalar(sa.select(Submission).where(Submission.kobo_id == original["_id"]))
        versions = session.scalar(sa.select(sa.func.count()).select_from(SubmissionVersion)
                                  .where(SubmissionVersion.submission_id == stored.id))
    assert (stored.instance_id, stored.ki_role, stored.version_count, versions) == (
        edit["meta/instanceID"], "women_rep", 2, 2)
    assert stored.chain_key == f"kobo:{ASSET_UID}:{original['_id']}"


def test_a_failing_batch_reaches_the_caller_and_keeps_the_batches_before_it(database, world, monkeypatch):
    maker = SubmissionMaker(seed=21)
    calls = []
    real_ingest = Ingestor.ingest

    def failing_second(self, records, **kwargs):
        calls.append(len(records))
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_ingest(self, records, **kwargs)

    monkeypatch.setattr(Ingestor, "ingest", failing_second)
    records = [maker.make(f"S{1 + i % 4}") for i in range(6)]
    with pytest.raises(RuntimeError, match="went away"):
        store_batches(database, ASSET_UID, batches(records, 2), via="import")
    assert count(database, Submission) == 2


def test_garbage_collection_is_back_on_after_a_run_that_failed(database, world):
    def source():
        yield [SubmissionMaker(seed=22).make("S1")]
        raise ValueError("export cut short")

    assert gc.isenabled()
    with pytest.raises(ValueError):
        store_batches(database, ASSET_UID, source(), via="import")
    assert gc.isenabled()
