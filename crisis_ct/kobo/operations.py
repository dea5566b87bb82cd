"""Kobo actions over a session: receive one webhook record, replay the quarantine,
list what is stored. The HTTP and CLI layers call these."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crisis_ct.accounts.audit import Actor, record as audit
from crisis_ct.geography.models import Site
from crisis_ct.kobo import odd_records
from crisis_ct.kobo.access import KoboAccess
from crisis_ct.kobo.batch_read import Rejected, record_ids
from crisis_ct.kobo.forms import FormVersions, find_asset_ref
from crisis_ct.kobo.ingest import Ingestor, Outcome, QUARANTINED
from crisis_ct.kobo.models import KoboAsset, QuarantinedSubmission
from crisis_ct.kobo.normalise import with_uuid_prefix
from crisis_ct.kobo.versions import resolve_versions
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
            match_distance_m: float, access: KoboAccess | None = None) -> Outcome:
    """Store one submission pushed by Kobo (or quarantine it), in the caller's transaction.

    A version the project has not registered is fetched from Kobo with `access` (which
    sets the short time-out); the transaction is ended before Kobo is asked, so no lock is
    held while it answers."""
    instance_id = record_identity(payload)
    odd = odd_records.check(payload)
    uid = payload.get("_xform_id_string")
    asset = find_asset_ref(session, uid if isinstance(uid, str) and (odd is None or odd.asset_uid) else None,
                           operation_ids)
    if odd is not None:
        return quarantine_record(session, odd.rejected, operation_id=asset.operation_id if asset else
                                 (operation_ids[0] if operation_ids else None), asset_uid=odd.asset_uid, via=via)
    if asset is None:
        return _quarantine_unknown_asset(session, payload, instance_id, operation_ids, via)
    forms = FormVersions(session, asset)
    read = resolve_versions(session, asset, [payload], forms, client=_client_of(session, asset.id, access),
                            before_fetch=session.commit)
    return Ingestor(session, asset, via=via, match_distance_m=match_distance_m, forms=forms).ingest(
        [payload], read=read)[0]


def receive_and_commit(session: Session, payload: Mapping, operation_ids: list[int], *, via: str,
                       match_distance_m: float, access: KoboAccess | None = None) -> Outcome:
    """`receive`, committed: Kobo must hear 2xx only once the submission is safely stored.

    The same submission delivered twice at the same moment (two app processes, or two
    threads) passes both look-ups; the second insert then breaks a unique constraint. It
    is tried once more, and finds the first: `duplicate`. A value the database refuses
    all the same is kept in quarantine with the database's reason, never a 500."""
    for attempt in (1, 2):
        try:
            outcome = receive(session, payload, operation_ids, via=via, match_distance_m=match_distance_m,
                              access=access)
            session.commit()
            return outcome
        except sa.exc.IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
        except (sa.exc.DataError, OverflowError) as exc:
            session.rollback()
            return _quarantine_unstorable(session, payload, operation_ids, via, exc)
    raise AssertionError("unreachable")


def _quarantine_unstorable(session: Session, payload: Mapping, operation_ids: list[int], via: str,
                           exc: Exception) -> Outcome:
    instance_id, kobo_id = record_ids(payload)
    cause = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
    uid = payload.get("_xform_id_string")
    asset = find_asset_ref(session, uid if isinstance(uid, str) and len(uid) <= 64 else None, operation_ids)
    rejected = Rejected(dict(payload), instance_id, None if kobo_id is None or abs(kobo_id) >= 2 ** 63 else kobo_id,
                        "unstorable", f"The database refused this submission ({cause}); fix it in Kobo, "
                        "then replay.", {"problems": ["unstorable"]})
    outcome = quarantine_record(session, rejected, operation_id=asset.operation_id if asset else
                                (operation_ids[0] if operation_ids else None),
                                asset_uid=asset.asset_uid if asset else None, via=via)
    session.commit()
    return outcome


def _client_of(session: Session, asset_id: int, access: KoboAccess | None):
    """The asset's Kobo client, made only when a version must be fetched (None: no access
    configured or no server connection)."""
    if access is None:
        return None
    return lambda: access.client(session.get(KoboAsset, asset_id))


def quarantine_record(session: Session, rejected: Rejected, *, operation_id: int | None, asset_uid: str | None,
                      via: str) -> Outcome:
    """Keep one record in quarantine (again: a re-delivery updates its row)."""
    record = rejected.record if isinstance(rejected.record, Mapping) else {"_payload": rejected.record}
    row = session.scalar(sa.select(QuarantinedSubmission).where(
        QuarantinedSubmission.instance_id == rejected.instance_id)) if rejected.instance_id else None
    if row is None:
        row = QuarantinedSubmission(operation_id=operation_id, asset_uid=asset_uid, instance_id=rejected.instance_id,
                                    kobo_id=rejected.kobo_id, received_via=via, attempts=0, status="pending")
        session.add(row)
    row.attempts = (row.attempts or 0) + 1
    row.raw, row.reason_code, row.reason, row.details = dict(record), rejected.code, rejected.reason, rejected.details
    row.status, row.resolved_at, row.last_attempt_at = "pending", None, utcnow()
    session.flush()
    return Outcome(QUARANTINED, rejected.instance_id, quarantine_id=row.id, reason_code=rejected.code,
                   reason=rejected.reason)


def _quarantine_unknown_asset(session: Session, payload: Mapping, instance_id: str, operation_ids: list[int],
                              via: str) -> Outcome:
    uid = payload.get("_xform_id_string")
    reason = (f"Kobo project '{uid}' is not connected to an operation you can submit to; "
              "connect it with `crisis-ct kobo connect`; the submission is then stored by itself.")
    _, kobo_id = record_ids(payload)
    return quarantine_record(session, Rejected(payload, instance_id, kobo_id, "unknown_asset", reason),
                             operation_id=operation_ids[0] if operation_ids else None,
                             asset_uid=str(uid) if uid else None, via=via)


@dataclass(frozen=True)
class ReplayResult:
    quarantine_id: int
    outcome: Outcome


def replay(session: Session, actor: Actor, rows: list[QuarantinedSubmission], *,
           match_distance_m: float, access: KoboAccess | None = None,
           records: Mapping[int, Mapping] | None = None) -> list[ReplayResult]:
    """Try quarantined submissions again (after their cause was fixed), each into its own
    operation only: the Kobo project it names must be connected to the operation the row
    belongs to. `records`: a corrected record to try instead of a row's raw one (by row id)."""
    results = []
    for row in rows:
        record = (records or {}).get(row.id, row.raw)
        outcome = _replay_one(session, row, record, match_distance_m=match_distance_m, access=access)
        if outcome.status != QUARANTINED and row.status == "pending":
            row.status, row.resolved_at, row.submission_id = "replayed", utcnow(), outcome.submission_id
        audit(session, actor, "kobo.replayed", target_type="quarantined_submission", target_id=row.id,
              operation_id=row.operation_id, details={"result": outcome.status, "reason": outcome.reason_code})
        results.append(ReplayResult(row.id, outcome))
    return results


def _replay_one(session: Session, row: QuarantinedSubmission, record: Mapping, *, match_distance_m: float,
                access: KoboAccess | None) -> Outcome:
    asset = session.scalar(sa.select(KoboAsset).where(KoboAsset.asset_uid == row.asset_uid)) \
        if row.asset_uid else None
    if asset is not None and asset.operation_id != row.operation_id:
        return _still(row, "unknown_asset", f"Kobo project '{row.asset_uid}' is connected to another operation; "
                      "a submission is only stored into the operation it was received for.")
    if asset is None or not row.instance_id:
        return _still(row, row.reason_code, row.reason)
    odd = odd_records.check(record)
    if odd is not None:
        return _still(row, odd.rejected.code, odd.rejected.reason)
    forms = FormVersions(session, asset)
    read = resolve_versions(session, asset, [record], forms, client=_client_of(session, asset.id, access))
    return Ingestor(session, asset, via="replay", match_distance_m=match_distance_m, forms=forms).ingest(
        [record], read=read)[0]


def _still(row: QuarantinedSubmission, code: str, reason: str) -> Outcome:
    row.attempts += 1
    row.last_attempt_at = utcnow()
    row.reason_code, row.reason = code, reason
    return Outcome(QUARANTINED, row.instance_id, quarantine_id=row.id, reason_code=code, reason=reason)


class ResolveError(ValueError):
    """The site named to resolve a submission is not a site of its operation."""


def resolve_site(session: Session, actor: Actor, row: QuarantinedSubmission, site_code: str, *,
                 match_distance_m: float, access: KoboAccess | None = None) -> ReplayResult:
    """Store a quarantined submission at the site a coordinator names (the one its
    enumerator meant): its record is tried again with that site id; the quarantine keeps
    the record as received, the audit log both ids."""
    code = site_code.strip()
    known = session.scalar(sa.select(Site.id).where(Site.operation_id == row.operation_id, Site.site_code == code))
    if known is None:
        raise ResolveError(f"'{code}' is not a site of this operation: import it, or name one of its sites.")
    record = dict(row.raw)
    record[_site_key(session, row, record)] = code
    result = replay(session, actor, [row], match_distance_m=match_distance_m, access=access,
                    records={row.id: record})[0]
    audit(session, actor, "kobo.site_resolved", target_type="quarantined_submission", target_id=row.id,
          operation_id=row.operation_id, details={"named": named_site(row.raw), "site_id": code,
                                                  "result": result.outcome.status})
    return result


def named_site(raw) -> str | None:
    """The site id a raw record names, if any."""
    key = _named_site_key(raw)
    return str(raw[key]) if key is not None else None


def _named_site_key(raw) -> str | None:
    if not isinstance(raw, Mapping):
        return None
    return next((key for key in raw if key == "site_id" or key.endswith("/site_id")), None)


def _site_key(session: Session, row: QuarantinedSubmission, record: Mapping) -> str:
    """Where the record's form keeps the site id (the key it has, else the form's xpath)."""
    key = _named_site_key(record)
    if key is not None:
        return key
    asset = session.scalar(sa.select(KoboAsset).where(KoboAsset.asset_uid == row.asset_uid))
    version = record.get("__version__")
    spec = FormVersions(session, asset).spec(version if isinstance(version, str) else None) if asset else None
    question = spec.by_name("site_id") if spec is not None else None
    return question.xpath if question is not None else "site_id"


def pending_quarantine(session: Session, operation_ids: list[int], *, limit: int | None = None,
                       offset: int = 0) -> tuple[int, list[QuarantinedSubmission]]:
    where = sa.and_(QuarantinedSubmission.operation_id.in_(operation_ids),
                    QuarantinedSubmission.status == "pending")
    total = session.scalar(sa.select(sa.func.count()).select_from(QuarantinedSubmission).where(where))
    query = sa.select(QuarantinedSubmission).where(where).order_by(QuarantinedSubmission.id).offset(offset)
    if limit:
        query = query.limit(limit)
    return total, list(session.scalars(query))
