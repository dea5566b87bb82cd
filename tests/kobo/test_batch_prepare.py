"""batch_prepare: what the bulk import's helper thread works out for each submission."""
from __future__ import annotations

from crisis_ct.kobo.batch_prepare import (SUBMISSION_FIXED_COLUMNS, VERSION_FIXED_COLUMNS, chain_key,
                                          prepare_batch, row_texts)
from crisis_ct.kobo.batch_read import Rejected, read_batch
from crisis_ct.kobo.copy_text import NULL
from crisis_ct.kobo.normalise import normalise
from tests.support.kobo_world import ASSET_UID, SubmissionMaker, form


def read_one(record):
    return normalise(record, form())


def test_the_chain_key_is_kobos_id_when_there_is_one():
    record = SubmissionMaker(seed=1).make("S1")
    assert chain_key(ASSET_UID, read_one(record)) == f"kobo:{ASSET_UID}:{record['_id']}"


def test_without_kobos_id_the_chain_key_is_the_root_uuid_or_the_first_instance():
    record = SubmissionMaker(seed=1).make("S1")
    del record["_id"]
    assert chain_key(ASSET_UID, read_one(record)) == f"instance:{record['meta/instanceID']}"
    rooted = {**record, "meta/rootUuid": "uuid:root-1"}
    assert chain_key(ASSET_UID, read_one(rooted)) == "root:uuid:root-1"


def test_row_texts_hold_one_field_per_fixed_column():
    record = SubmissionMaker(seed=2).make("S1")
    texts = row_texts(read_one(record), record, operation_id=7, asset_id=3, asset_uid=ASSET_UID, via="import")
    submission = texts.submission.decode().split("\t")
    version = texts.version.decode().split("\t")
    assert len(submission) == len(SUBMISSION_FIXED_COLUMNS) and len(version) == len(VERSION_FIXED_COLUMNS)
    assert submission[:4] == ["7", "3", str(record["_id"]), record["meta/instanceID"]]
    assert submission[-1] == version[-1] == "import"
    assert version[1] == NULL  # a first version deprecates nothing


def test_only_submissions_are_prepared():
    maker = SubmissionMaker(seed=3)
    records = [maker.make("S1"), "not a record"]
    read = read_batch(records, {None: form(), form().version: form()}, asset_uid=ASSET_UID, known_versions=[])
    prepared = prepare_batch(records, read, operation_id=1, asset_id=1, asset_uid=ASSET_UID, via="import")
    assert isinstance(read[1], Rejected)
    assert prepared[0] is not None and prepared[0].chain_key == chain_key(ASSET_UID, read[0])
    assert prepared[1] is None
