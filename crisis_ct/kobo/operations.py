"""Kobo actions over a session: receive one webhook record, replay the quarantine,
list what is stored. The HTTP and CLI layers call these."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.audit import Actor, record as audit
from crisis_ct.kobo.forms import find_asset_ref
from crisis_ct.kobo.ingest import Ingestor, Outcome, QUARANTINED
from crisis_ct.kobo.models import KoboAsset, QuarantinedSubmission
from crisis_ct.kobo.normalise import with_uuid_prefix
from crisis_ct.timeutil import utcnow


class NotASubmissionError(ValueError):
    pass


def record_identity(payload) -> str:
    if not isinstance(payload, Mapping):
        raise NotASubmissionError("The body must be one Kobo submission: a JSON object.")
    instance_id = with_uuid_prefix(payload.get("meta/instanceID")) or with_uuid_prefix(payload.get("_uuid"))
    if not instance_id:
        raise NotASubmissionError("The submission has no 'meta/instanceID' (nor '_uuid'): "
                                  "it cannot be identified, so it is not accepted.")
    return instance_id


def receive(session: Session, payload: Mapping, operation_ids: list[int], *, via: str,
            match_distance_m: float) -> Outcome:
    """Store one submission pushed by Kobo (or quarantine it), in the caller's transaction."""
    instance_id = record_identity(payload)
    asset = find_asset_ref(session, payload.get("_xform_id_string"), operation_ids)
    if asset is None:
        return _quarantine_unknown_asset(session, payload, instance_id, operation_ids, via)
    return Ingestor(session, asset, via=via, match_distance_m=match_distance_m).ingest([payload])[0]


def _quarantine_unknown_asset(session: Session, payload: Mapping, instance_id: str, operation_ids: list[int],
                              via: str) -> Outcome:
    uid = payload.get("_xform_id_string")
    reason = (f"Kobo project '{uid}' is not connected to an operation you can submit to; "
              "connect it with `crisis-ct kobo connect`, then replay.")
    row = session.scalar(sa.select(QuarantinedSubmission).where(QuarantinedSubmission.instance_id == instance_id))
    if row is None:
        row = QuarantinedSubmission(operation_id=operation_ids[0] if operation_ids else None,
                                    asset_uid=str(uid) if uid else None, instance_id=instance_id,
                                    reason_code="unknown_asset", reason=reason, raw=dict(payload),
                                    received_via=via, attempts=1, status="pending")
        session.add(row)
    else:
        row.attempts += 1
        row.raw, row.reason_code, row.reason = dict(payload), "unknown_asset", reason
    session.flush()
    return Outcome(QUARANTINED, instance_id, quarantine_id=row.id, reason_code="unknown_asset", reason=reason)


@dataclass(frozen=True)
class ReplayResult:
    quarantine_id: int
    outcome: Outcome


def replay(session: Session, actor: Actor, rows: list[QuarantinedSubmission], *,
           match_distance_m: float) -> list[ReplayResult]:
    """Try quarantined submissions again (after their cause was fixed)."""
    results = []
    for row in rows:
        asset = session.scalar(sa.select(KoboAsset).where(KoboAsset.asset_uid == row.asset_uid))
        if asset is None:
            row.attempts += 1
            results.append(ReplayResult(row.id, Outcome(QUARANTINED, row.instance_id, quarantine_id=row.id,
                                                        reason_code=row.reason_code, reason=row.reason)))
            continue
        outcome = Ingestor(session, asset, via="replay").ingest([row.raw])[0] if row.instance_id else \
            Outcome(QUARANTINED, None, quarantine_id=row.id, reason_code=row.reason_code, reason=row.reason)
        if outcome.status != QUARANTINED and row.status == "pending":
            row.status, row.resolved_at, row.submission_id = "replayed", utcnow(), outcome.submission_id
        audit(session, actor, "kobo.replayed", target_type="quarantined_submission", target_id=row.id,
              operation_id=row.operation_id, details={"result": outcome.status, "reason": outcome.reason_code})
        results.append(ReplayResult(row.id, outcome))
    return results


def pending_quarantine(session: Session, operation_ids: list[int], *, limit: int | None = None,
                       offset: int = 0) -> tuple[int, list[QuarantinedSubmission]]:
    where = sa.and_(QuarantinedSubmission.operation_id.in_(operation_ids),
                    QuarantinedSubmission.status == "pending")
    total = session.scalar(sa.select(sa.func.count()).select_from(QuarantinedSubmission).where(where))
    query = sa.select(QuarantinedSubmission).where(where).order_by(QuarantinedSubmission.id).offset(offset)
    if limit:
        query = query.limit(limit)
    return total, list(session.scalars(query))
