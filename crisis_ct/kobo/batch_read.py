"""Reading a record before it is stored: which form it was filled in, its typed answers,
or why it cannot be stored (a quarantine reason).

Pure: no database. The Ingestor reads each record with the asset's live form versions;
the bulk import reads the next batch with a snapshot of them (`read_batch`) in a helper
thread while the database stores the current one.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable, Mapping, Sequence

from crisis_ct.kobo.formspec import FormSpec
from crisis_ct.kobo.normalise import NormalisedSubmission, NotASubmission, normalise, with_uuid_prefix

__all__ = ["Rejected", "form_of", "read_batch", "read_record", "record_ids", "unknown_version_reason"]


@dataclass(frozen=True)
class Rejected:
    """A record that goes to the quarantine, with its reason."""

    record: object
    instance_id: str | None
    kobo_id: int | None
    code: str
    reason: str
    details: dict | None = None  # facts behind the reason (nearest sites, unknown questions…)


Read = NormalisedSubmission | Rejected


def read_record(record: object, spec: FormSpec | None, *, asset_uid: str,
                known_versions: Sequence[str]) -> Read:
    """`record` read with `spec`, the form of its `__version__` (None: not known)."""
    if not isinstance(record, Mapping):
        return Rejected(record, None, None, "not_a_submission", "The record is not a JSON object.")
    if spec is None:
        return Rejected(record, _instance_id(record), _int(record.get("_id")), "unknown_form_version",
                        unknown_version_reason(record.get("__version__"), asset_uid, known_versions))
    try:
        sub = normalise(record, spec)
    except NotASubmission as exc:
        return Rejected(record, _instance_id(record), _int(record.get("_id")), "not_a_submission", str(exc))
    if sub.problems:
        return Rejected(record, sub.instance_id, sub.kobo_id, sub.problems[0].code,
                        "; ".join(str(p) for p in sub.problems))
    if sub.assessment_date is None:
        return Rejected(record, sub.instance_id, sub.kobo_id, "missing_required", "The assessment date is missing.")
    return sub


def read_batch(records: Sequence[object], specs: Mapping[str | None, FormSpec], *, asset_uid: str,
               known_versions: Sequence[str]) -> list[Read | None]:
    """Each record read with `specs` (form version -> spec; None and "" -> the latest).

    None for a record whose version is not in `specs`: a form deployed since the snapshot
    was taken may know it, so the caller reads that record again with live versions.
    """
    read: list[Read | None] = []
    for record in records:
        spec = form_of(record, specs.get)
        read.append(None if spec is None and isinstance(record, Mapping) else
                    read_record(record, spec, asset_uid=asset_uid, known_versions=known_versions))
    return read


def form_of(record: object, spec_of_version: Callable[[str | None], FormSpec | None]) -> FormSpec | None:
    """The form `record` was filled in, by its `__version__` (None: not an object, or a
    version that names no form: unknown, or not text such as a list or a number)."""
    if not isinstance(record, Mapping):
        return None
    version = record.get("__version__")
    return spec_of_version(version) if version is None or isinstance(version, str) else None


def unknown_version_reason(version: object, asset_uid: str, known_versions: Sequence[str]) -> str:
    known = ", ".join(known_versions) or "none registered"
    return (f"Form version '{version}' of asset {asset_uid} is not known to crisis-ct (known: {known}). "
            "Run `crisis-ct kobo sync` or register the form, then replay.")


def record_ids(record: Mapping) -> tuple[str | None, int | None]:
    """The instance id and Kobo `_id` a record names, as a quarantine row keeps them."""
    return _instance_id(record), _int(record.get("_id"))


def _instance_id(record: Mapping) -> str | None:
    return with_uuid_prefix(record.get("meta/instanceID")) or with_uuid_prefix(record.get("_uuid"))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
