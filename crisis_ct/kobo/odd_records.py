"""Submissions the database cannot take as they are: identities longer than their
columns, NUL characters (PostgreSQL text cannot hold them), numbers beyond 64 bits.

Found before anything is written, so that the webhook keeps them in quarantine with a
reason (202) instead of failing on the database (a 500, which Kobo never retries). The
quarantine keeps a copy the database accepts: NUL as U+FFFD, huge numbers as text, and an
over-long instance id by its SHA-256 (so a re-delivery finds the same row). Pure.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

from crisis_ct.kobo.batch_read import Rejected
from crisis_ct.kobo.normalise import with_uuid_prefix

__all__ = ["MAX_ASSET_UID", "OddRecord", "check"]

MAX_IDENTITY = 100   # instance ids and version ids (their columns)
MAX_ASSET_UID = 64   # kobo_assets.asset_uid, quarantined_submissions.asset_uid
_INT64 = 2 ** 63
_IDENTITY_KEYS = ("meta/instanceID", "_uuid", "meta/deprecatedID", "meta/rootUuid")


@dataclass(frozen=True)
class OddRecord:
    rejected: Rejected
    asset_uid: str | None  # as the quarantine can keep it (None when too long)


def check(record: Mapping) -> OddRecord | None:
    """None for an ordinary record (the normal case: one pass over its values)."""
    long_ids = [key for key in _IDENTITY_KEYS if len(str(record.get(key) or "")) > MAX_IDENTITY - 5]
    uid = record.get("_xform_id_string")
    long_uid = isinstance(uid, str) and len(uid) > MAX_ASSET_UID
    bad_id = _id_out_of_range(record.get("_id"))
    if not long_ids and not long_uid and not bad_id and _ordinary(record):
        return None
    findings: list[tuple[str, str]] = [("number", "_id")] if bad_id else []
    clean = _clean(record, "", findings)
    if bad_id:
        clean["_id"] = str(record.get("_id"))
    reasons, codes = [], []
    if long_ids:
        codes.append("instance_id_too_long")
        reasons.append(f"{', '.join(long_ids)} longer than {MAX_IDENTITY - 5} characters")
    if long_uid:
        codes.append("asset_uid_too_long")
        reasons.append(f"_xform_id_string longer than {MAX_ASSET_UID} characters (not a Kobo project uid)")
    nul = [key for kind, key in findings if kind == "nul"]
    if nul:
        codes.append("nul_bytes")
        reasons.append(f"NUL characters in {', '.join(nul[:10])} (kept as U+FFFD)")
    numbers = list(dict.fromkeys(key for kind, key in findings if kind == "number"))
    if numbers:
        codes.append("number_out_of_range")
        reasons.append(f"numbers too large to store in {', '.join(numbers[:10])} (kept as text)")
    instance_id = with_uuid_prefix(clean.get("meta/instanceID")) or with_uuid_prefix(clean.get("_uuid"))
    if instance_id and len(instance_id) > MAX_IDENTITY:
        instance_id = "sha256:" + hashlib.sha256(instance_id.encode()).hexdigest()
    kobo_id = clean.get("_id")
    kobo_id = kobo_id if isinstance(kobo_id, int) and not isinstance(kobo_id, bool) else None
    reason = ("The submission cannot be stored as it is: " + "; ".join(reasons) +
              ". Fix it in Kobo (or tell the form's maintainers), then replay.")
    return OddRecord(Rejected(clean, instance_id, kobo_id, codes[0], reason, {"problems": codes}),
                     None if long_uid else (uid if isinstance(uid, str) else None))


def _id_out_of_range(value) -> bool:
    """Kobo's `_id` is a 64-bit integer (a column of ours); a float is one that lost its digits."""
    if isinstance(value, float):
        return True
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64


def _ordinary(value) -> bool:
    """No NUL and no number out of range anywhere (no copy, one tight loop over a record's
    values: the webhook's common case, a few microseconds)."""
    for key, item in value.items() if isinstance(value, Mapping) else enumerate(value):
        kind = type(item)
        if kind is str:
            if "\x00" in item:
                return False
        elif kind is int:
            if not -_INT64 <= item < _INT64:
                return False
        elif kind is float:
            if not (math.isfinite(item) and abs(item) < 1e300):
                return False
        elif kind is dict or kind is list or isinstance(item, (Mapping, list)):
            if not _ordinary(item):
                return False
        if type(key) is str and "\x00" in key:
            return False
    return True


def _clean(value, path: str, findings: list[tuple[str, str]]):
    """A copy the database accepts; what had to change goes to `findings` as (kind, key)."""
    if isinstance(value, str):
        if "\x00" in value:
            findings.append(("nul", path or "the body"))
            return value.replace("\x00", "\ufffd")
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if -_INT64 <= value < _INT64:
            return value
        findings.append(("number", path))
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and abs(value) < 1e300:
            return value
        findings.append(("number", path))
        return str(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            name = str(key)
            if "\x00" in name:
                findings.append(("nul", name.replace("\x00", "\ufffd")))
                name = name.replace("\x00", "\ufffd")
            out[name] = _clean(item, name, findings)
        return out
    if isinstance(value, list):
        return [_clean(item, path, findings) for item in value]
    return value
