"""Kobo's REST Services webhook, the quarantine and the stored submissions."""
from __future__ import annotations

import dataclasses

import orjson
import sqlalchemy as sa
from flask import current_app, jsonify, request
from flask_smorest import Blueprint

from crisis_ct.accounts.auth import require_principal, requires, scoped_operation_ids
from crisis_ct.errors import ApiError
from crisis_ct.geography.models import Site
from crisis_ct.kobo import operations
from crisis_ct.kobo.ingest import DUPLICATE, QUARANTINED
from crisis_ct.kobo.models import QuarantinedSubmission, Submission
from crisis_ct.projection.submissions import submission
from crisis_ct.kobo.schemas import (OutcomeSchema, QuarantinedSchema, QuarantineQuery, SubmissionSchema,
                                    SubmissionsQuery)
from crisis_ct.web_db import db_session

blueprint = Blueprint("kobo", __name__, url_prefix="/api/v1/kobo", description="Kobo submissions")

STATUS_CODES = {DUPLICATE: 200, QUARANTINED: 202}


@blueprint.post("/submissions")
@requires("coordinator", allow_submitter=True)
@blueprint.response(201, OutcomeSchema, description="Stored (201), already stored (200) or quarantined (202)")
def receive_submission():
    """Kobo REST Services endpoint: one submission per request, JSON."""
    principal = require_principal()
    operation_ids = [op for op in principal.roles if principal.can_submit(op)]
    if not operation_ids:
        raise ApiError(403, "forbidden", "This token may not submit to any operation.")
    payload = _json_body()
    try:
        session = db_session()
        outcome = operations.receive(session, payload, sorted(operation_ids), via="webhook",
                                     match_distance_m=current_app.config["SITE_MATCH_DISTANCE_M"])
        # Kobo must hear 2xx only once the submission is safely committed.
        session.commit()
    except operations.NotASubmissionError as exc:
        raise ApiError(400, "not_a_submission", str(exc)) from exc
    return dataclasses.asdict(outcome), STATUS_CODES.get(outcome.status, 201)


def _json_body():
    if not request.mimetype or "json" not in request.mimetype:
        raise ApiError(415, "unsupported_media_type",
                       "Send the submission as JSON (Content-Type: application/json); "
                       "set the REST Service to JSON, not XML.")
    try:
        return orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"The body is not valid JSON: {exc}") from exc


@blueprint.get("/submissions")
@requires("coordinator")
@blueprint.arguments(SubmissionsQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="Stored submissions, paged")
def list_submissions(operation=None, site_id=None, since=None, until=None, limit=100, offset=0):
    """Each through crisis_ct.projection.submissions.submission (coordinators and above)."""
    operation_ids = scoped_operation_ids(require_principal(), operation, "coordinator")
    session = db_session()
    where = [Submission.operation_id.in_(operation_ids)]
    if site_id:
        where.append(Site.site_code == site_id)
    if since:
        where.append(Submission.assessment_date >= since)
    if until:
        where.append(Submission.assessment_date <= until)
    principal = require_principal()
    base = sa.select(Submission, Site.site_code).join(Site, Site.id == Submission.site_id).where(*where)
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    rows = session.execute(base.order_by(Submission.assessment_date.desc(), Submission.id.desc())
                           .limit(limit).offset(offset)).all()
    items = [submission(principal, sub.operation_id, {**SubmissionSchema().dump(sub), "site_id": code})
             for sub, code in rows]
    return jsonify({"total": total, "limit": limit, "offset": offset, "items": items})


@blueprint.get("/quarantine")
@requires("coordinator")
@blueprint.arguments(QuarantineQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="Quarantined submissions waiting for a fix")
def list_quarantine(operation=None, limit=100, offset=0):
    principal = require_principal()
    operation_ids = scoped_operation_ids(principal, operation, "coordinator")
    total, rows = operations.pending_quarantine(db_session(), operation_ids, limit=limit, offset=offset)
    items = [submission(principal, row.operation_id, {**QuarantinedSchema().dump(row), "site_id": _named_site(row.raw)})
             for row in rows]
    return jsonify({"total": total, "limit": limit, "offset": offset, "items": items})


def _named_site(raw) -> str | None:
    if not isinstance(raw, dict):
        return None
    for key, value in raw.items():
        if key == "site_id" or key.endswith("/site_id"):
            return str(value)
    return None


@blueprint.post("/quarantine/<int:quarantine_id>/replay")
@requires("coordinator")
@blueprint.response(200, OutcomeSchema, description="The outcome of the new attempt")
def replay_one(quarantine_id: int):
    principal = require_principal()
    session = db_session()
    row = session.get(QuarantinedSubmission, quarantine_id)
    if row is None or not principal.has_role(row.operation_id, "coordinator"):
        raise ApiError(404, "not_found", f"No quarantined submission {quarantine_id}.")
    if row.status != "pending":
        raise ApiError(409, "conflict", f"Quarantined submission {quarantine_id} was already {row.status}.",
                       {"status": row.status, "submission_id": row.submission_id})
    result = operations.replay(session, principal.actor, [row],
                               match_distance_m=current_app.config["SITE_MATCH_DISTANCE_M"])[0]
    session.commit()
    return dataclasses.asdict(result.outcome)


@blueprint.get("/assets")
@requires("coordinator")
@blueprint.arguments(QuarantineQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="Connected Kobo projects with their last sync (no tokens)")
def list_assets(operation=None, limit=100, offset=0):
    """The operation's Kobo projects: when each last synced and what it found."""
    from crisis_ct.kobo.models import KoboAsset, KoboFormVersion
    from crisis_ct.kobo.secrets import token_source

    principal = require_principal()
    operation_ids = scoped_operation_ids(principal, operation, "coordinator")
    session = db_session()
    where = KoboAsset.operation_id.in_(operation_ids)
    total = session.scalar(sa.select(sa.func.count()).select_from(KoboAsset).where(where))
    assets = session.scalars(sa.select(KoboAsset).where(where).order_by(KoboAsset.asset_uid)
                             .limit(limit).offset(offset)).all()
    versions: dict[int, list[str]] = {}
    for asset_id, version in session.execute(
            sa.select(KoboFormVersion.asset_id, KoboFormVersion.version)
            .where(KoboFormVersion.asset_id.in_([a.id for a in assets]))
            .order_by(KoboFormVersion.added_at, KoboFormVersion.id)):
        versions.setdefault(asset_id, []).append(version)
    pending = dict(session.execute(
        sa.select(QuarantinedSubmission.asset_uid, sa.func.count())
        .where(QuarantinedSubmission.asset_uid.in_([a.asset_uid for a in assets]),
               QuarantinedSubmission.status == "pending")
        .group_by(QuarantinedSubmission.asset_uid)).all())
    items = [{
        "asset_uid": a.asset_uid, "name": a.name, "operation": principal.operation_codes.get(a.operation_id),
        "server_url": a.server_url, "token": token_source(a), "form_versions": versions.get(a.id, []),
        "highest_kobo_id": a.highest_kobo_id,
        "last_sync_at": a.last_sync_at.isoformat() if a.last_sync_at else None,
        "last_sync_status": a.last_sync_status, "last_sync_summary": a.last_sync_summary or {},
        "quarantined_pending": pending.get(a.asset_uid, 0),
    } for a in assets]
    return jsonify({"total": total, "limit": limit, "offset": offset, "items": items})
