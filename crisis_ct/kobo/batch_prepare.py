"""The parts of a submission's stored rows that do not depend on the database: its edit
chain key and, for the bulk import's COPY, its row values encoded as COPY text.

Pure: no database. The bulk import prepares the next batch in its helper thread (after
batch_read.read_batch) while the current one is stored; the Ingestor fills in what only
the database can tell (row ids, the site, whether the submission is new) and sends it.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping, Sequence

from crisis_ct.kobo.copy_text import escape, field, json_bytes
from crisis_ct.kobo.normalise import NormalisedSubmission

__all__ = ["SUBMISSION_FIXED_COLUMNS", "VERSION_FIXED_COLUMNS", "RowTexts", "chain_key", "prepare_batch",
           "row_texts"]

# COPY column order of the fixed part of a submissions row (what the submission alone says)
# and of a submission_versions row; the Ingestor writes the other columns before them.
SUBMISSION_FIXED_COLUMNS = ("operation_id", "asset_id", "kobo_id", "instance_id", "assessment_date",
                            "submitted_at", "ki_role", "ki_sex", "form_version", "answers", "received_via")
VERSION_FIXED_COLUMNS = ("instance_id", "deprecated_id", "raw", "received_via")


@dataclass(frozen=True)
class RowTexts:
    """One submission, ready to be stored."""

    chain_key: str
    # UTF-8 bytes, as sent (encoding them here spares the storing thread a copy of each payload):
    submission: bytes  # SUBMISSION_FIXED_COLUMNS as COPY text fields, tab-separated
    version: bytes     # VERSION_FIXED_COLUMNS likewise (the raw payload verbatim)


def chain_key(asset_uid: str, sub: NormalisedSubmission) -> str:
    """The identity of the submission's edit chain, unique per operation."""
    # Kobo's `_id` stays the same across edits; the root uuid too, where the server sends it.
    if sub.kobo_id is not None:
        return f"kobo:{asset_uid}:{sub.kobo_id}"
    if sub.root_id:
        return f"root:{sub.root_id}"
    return f"instance:{sub.deprecated_id or sub.instance_id}"


def row_texts(sub: NormalisedSubmission, raw: Mapping, *, operation_id: int, asset_id: int, asset_uid: str,
              via: str) -> RowTexts:
    via_field = b"\t" + escape(via).encode()
    instance_id = escape(sub.instance_id)
    # The JSON payloads go in as orjson wrote them (bytes); the small fields before them as text.
    submission = "\t".join((
        str(operation_id), str(asset_id), field(sub.kobo_id), instance_id, field(sub.assessment_date),
        field(sub.submitted_at), field(sub.ki_role), field(sub.ki_sex), field(sub.form_version), ""
    )).encode() + json_bytes(sub.answers) + via_field
    payload = raw if type(raw) is dict else dict(raw)  # as stored: a JSON object
    version = (instance_id + "\t" + field(sub.deprecated_id) + "\t").encode() + json_bytes(payload) + via_field
    return RowTexts(chain_key(asset_uid, sub), submission, version)


def prepare_batch(records: Sequence[Mapping], read: Sequence[object], *, operation_id: int, asset_id: int,
                  asset_uid: str, via: str) -> list[RowTexts | None]:
    """RowTexts for each record read as a submission (batch_read.read_batch); None for the
    others (rejected, or left to the Ingestor to read)."""
    return [row_texts(item, record, operation_id=operation_id, asset_id=asset_id, asset_uid=asset_uid, via=via)
            if isinstance(item, NormalisedSubmission) else None
            for item, record in zip(read, records)]
