"""batch_read: reading records without a database, as the bulk import's helper thread does."""
from __future__ import annotations

from crisis_ct.kobo.batch_read import Rejected, read_batch, read_record
from crisis_ct.kobo.normalise import NormalisedSubmission
from tests.support.kobo_world import ASSET_UID, SubmissionMaker, form


def test_a_record_of_a_known_version_is_normalised():
    spec = form()
    record = SubmissionMaker(seed=3).make("S1")
    read = read_batch([record], {record["__version__"]: spec}, asset_uid=ASSET_UID, known_versions=["v"])
    assert isinstance(read[0], NormalisedSubmission)
    assert read[0].instance_id == record["meta/instanceID"]


def test_a_record_of_a_version_outside_the_snapshot_is_left_to_the_caller():
    record = {**SubmissionMaker(seed=3).make("S1"), "__version__": "deployed-later"}
    assert read_batch([record], {None: form()}, asset_uid=ASSET_UID, known_versions=[]) == [None]


def test_a_version_that_is_not_text_is_left_to_the_caller():
    record = {**SubmissionMaker(seed=3).make("S1"), "__version__": ["v1"]}
    assert read_batch([record], {None: form()}, asset_uid=ASSET_UID, known_versions=[]) == [None]


def test_a_record_that_is_not_an_object_is_rejected_without_a_spec():
    read = read_batch(["not a record"], {}, asset_uid=ASSET_UID, known_versions=[])
    assert isinstance(read[0], Rejected) and read[0].code == "not_a_submission"


def test_no_spec_rejects_with_the_known_versions_named():
    record = {**SubmissionMaker(seed=3).make("S1"), "__version__": "v9"}
    rejected = read_record(record, None, asset_uid=ASSET_UID, known_versions=["v1", "v2"])
    assert isinstance(rejected, Rejected)
    assert rejected.code == "unknown_form_version"
    assert "'v9'" in rejected.reason and "v1, v2" in rejected.reason
    assert rejected.instance_id == record["meta/instanceID"]


def test_a_submission_without_consent_is_rejected_with_the_first_problem():
    record = SubmissionMaker(seed=3).make("S1")
    record["consent"] = "no"
    rejected = read_record(record, form(), asset_uid=ASSET_UID, known_versions=[])
    assert isinstance(rejected, Rejected) and rejected.code == "consent_not_given"
