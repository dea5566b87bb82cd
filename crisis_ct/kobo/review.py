"""Kobo's review of stored submissions: validation status, and deletions (withdrawal).

Neither fires a hook, so the webhook never tells us; the pull sync reads status changes
(`record_validation_statuses`) and lists the project's `_id`s (`withdraw_missing`). Every
change queues the site for re-scoring; scoring/counted.py decides what counts.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.kobo.models import Submission
from crisis_ct.scoring.counted import VALIDATION_STATUSES
from crisis_ct.scoring.queue import enqueue_sites
from crisis_ct.timeutil import utcnow

DELETED_IN_KOBO = "deleted_in_kobo"
_CHUNK = 900  # ids per IN list (SQLite's parameter limit is far above, but statements stay small)


def validation_of(record: Mapping) -> tuple[str | None, int | None]:
    """(status uid, Unix timestamp) of a record's `_validation_status`; (None, None) when unset."""
    value = record.get("_validation_status") if isinstance(record, Mapping) else None
    if not isinstance(value, Mapping):
        return None, None
    uid = value.get("uid") if value.get("uid") in VALIDATION_STATUSES else None
    timestamp = value.get("timestamp")
    try:
        timestamp = int(timestamp) if timestamp is not None and uid is not None else None
    except (TypeError, ValueError):
        timestamp = None
    return uid, timestamp


@dataclass
class ReviewTally:
    changed: int = 0
    highest_timestamp: int | None = None
    site_ids: set[int] = field(default_factory=set)


def record_validation_statuses(session: Session, asset_id: int, records: Iterable[Mapping], *,
                               only_set: bool = False) -> ReviewTally:
    """Store the validation status the records carry on the asset's stored submissions
    (matched by Kobo `_id`), queueing the sites whose submissions changed.

    `only_set`: skip records without a status (the Ingestor's path, where a new record's
    `{}` says nothing a fresh row does not already say); the sync passes False, so a status
    cleared in Kobo is cleared here too."""
    tally = ReviewTally()
    if only_set:  # nearly every record of a webhook or an import: `{}`, nothing to do
        records = [r for r in records if isinstance(r, dict) and r.get("_validation_status")]
    wanted: dict[int, tuple[str | None, int | None]] = {}
    for record in records:
        kobo_id = record.get("_id") if isinstance(record, Mapping) else None
        if not isinstance(kobo_id, int) or isinstance(kobo_id, bool):
            continue
        status, timestamp = validation_of(record)
        if status is None and only_set:
            continue
        wanted[kobo_id] = (status, timestamp)
        if timestamp is not None and (tally.highest_timestamp is None or timestamp > tally.highest_timestamp):
            tally.highest_timestamp = timestamp
    ids = sorted(wanted)
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            sa.select(Submission.id, Submission.kobo_id, Submission.site_id, Submission.validation_status,
                      Submission.validation_timestamp)
            .where(Submission.asset_id == asset_id, Submission.kobo_id.in_(ids[start:start + _CHUNK]))).all()
        for submission_id, kobo_id, site_id, status, timestamp in rows:
            if (status, timestamp) == wanted[kobo_id]:
                continue
            new_status, new_timestamp = wanted[kobo_id]
            session.execute(sa.update(Submission).where(Submission.id == submission_id)
                            .values(validation_status=new_status, validation_timestamp=new_timestamp))
            tally.changed += 1
            tally.site_ids.add(site_id)
    enqueue_sites(session, tally.site_ids)
    return tally


@dataclass
class WithdrawalTally:
    withdrawn: int = 0
    restored: int = 0
    listed: int = 0


def withdraw_missing(session: Session, asset_id: int, listed_ids: Iterable[int], *, listed_since: datetime,
                     now: datetime | None = None) -> WithdrawalTally:
    """Given a COMPLETE listing of the project's `_id`s, begun at `listed_since`: withdraw the
    stored submissions Kobo no longer has, and restore withdrawn ones it lists again.

    Only submissions stored before the listing began can be judged: one stored while it
    ran may have been submitted after its last page was read. The caller must not call
    this with a failed or partial listing."""
    now = now or utcnow()
    listed = set(listed_ids)
    tally = WithdrawalTally(listed=len(listed))
    rows = session.execute(
        sa.select(Submission.id, Submission.kobo_id, Submission.site_id, Submission.withdrawn_reason)
        .where(Submission.asset_id == asset_id, Submission.kobo_id.is_not(None),
               Submission.created_at < listed_since)).all()
    gone = [(sid, site) for sid, kobo_id, site, reason in rows if kobo_id not in listed and reason is None]
    back = [(sid, site) for sid, kobo_id, site, reason in rows if kobo_id in listed and reason == DELETED_IN_KOBO]
    for changes, values in ((gone, {"withdrawn_at": now, "withdrawn_reason": DELETED_IN_KOBO}),
                            (back, {"withdrawn_at": None, "withdrawn_reason": None})):
        ids = [sid for sid, _ in changes]
        for start in range(0, len(ids), _CHUNK):
            session.execute(sa.update(Submission).where(Submission.id.in_(ids[start:start + _CHUNK]))
                            .values(**values))
    tally.withdrawn, tally.restored = len(gone), len(back)
    enqueue_sites(session, {site for _, site in gone + back})
    return tally
