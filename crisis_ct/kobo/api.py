"""Kobo's REST Services webhook, the quarantine and the stored submissions."""
from __future__ import annotations

import dataclasses
import json

import orjson
import sqlalchemy as sa
from flask import current_app, jsonify, request
from flask_smorest import Blueprint

from crisis_ct.accounts.auth import require_principal, requires, scoped_operation_ids
from crisis_ct.errors import ApiError
from crisis_ct.geography.models import Site
from crisis_ct.kobo import operations
from crisis_ct.kobo.access import app_access
from crisis_ct.kobo.ingest import DUPLICATE, QUARANTINED
from crisis_ct.kobo.models import QuarantinedSubmission, Submission
from crisis_ct.kobo.schemas import (OutcomeSchema, QuarantinedSchema, QuarantineQuery, ResolveSiteSchema,
                                    SubmissionSchema, SubmissionsQuery)
from crisis_ct.projection.submissions import submission
from crisis_ct.web_db import db_session

blueprint = Blueprint("kobo", __name__, url_prefix="/api/v1/kobo", description="Kobo submissions")

STATUS_CODES = {DUPLICATE: 200, QUARANTINED: 202}


# The body is whatever Kobo's REST Services send for the form (any JSON object); a payload
# that is not a submission at all is a 400, one that cannot be processed is kept (202).
SUBMISSION_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": True,
    "description": "One Kobo submission as REST Services send it (JSON): _uuid or meta/instanceID, "
                   "the form's answers by their XLSForm names (groups as prefixes), _submission_time ..."}}}}


@blueprint.post("/submissions")
@requires("coordinator", allow_submitter=True)
@blueprint.doc(requestBody=SUBMISSION_BODY)
@blueprint.response(201, OutcomeSchema, description="Stored: a new submission, or a new version of one")
@blueprint.alt_response(200, schema=OutcomeSchema, success=True,
                        description="Already stored: the same submission was received before")
@blueprint.alt_response(202, schema=OutcomeSchema, success=True,
                        description="Kept in quarantine with its reason (reason_code, reason), to be fixed and replayed")
@blueprint.alt_response(503, response="SERVICE_UNAVAILABLE",
                        description="The database is unavailable: nothing was stored, Kobo retries")
def receive_submission():
    """Kobo REST Services endpoint: one submission per request, JSON."""
    principal = require_principal()
    operation_ids = [op for op in principal.roles if principal.can_submit(op)]
    if not operation_ids:
        raise ApiError(403, "forbidden", "This token may not submit to any operation.")
    payload = _json_body()
    try:
        outcome = operations.receive_and_commit(
            db_session(), payload, sorted(operation_ids), via="webhook",
            match_distance_m=current_app.config["SITE_MATCH_DISTANCE_M"], access=app_access())
    except operations.NotASubmissionError as exc:
        raise ApiError(400, "not_a_submission", str(exc)) from exc
    return dataclasses.asdict(outcome), STATUS_CODES.get(outcome.status, 201)


def _json_body():
    if not request.mimetype or "json" not in request.mimetype:
        raise ApiError(415, "unsupported_media_type",
                       "Send the submission as JSON (Content-Type: application/json); "
                       "set the REST Service to JSON, not XML.")
    body = request.get_data(cache=False)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            # Valid JSON that orjson refuses (a number beyond a double, such as 1e400) is
            # still a submission: the quarantine keeps it (odd_records).
            return json.loads(body)
        except ValueError:
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
    items = [submission(principal, row.operation_id,
                        {**QuarantinedSchema().dump(row), "site_id": operations.named_site(row.raw)})
             for row in rows]
    return jsonify({"total": total, "limit": limit, "offset": offset, "items": items})


@blueprint.post("/quarantine/<int:quarantine_id>/replay")
@requires("coordinator")
@blueprint.response(200, OutcomeSchema, description="The outcome of the new attempt")
def replay_one(quarantine_id: int):
    principal = require_principal()
    session = db_session()
    row = _pending_row(principal, session, quarantine_id)
    result = operations.replay(session, principal.actor, [row],
                               match_distance_m=current_app.config["SITE_MATCH_DISTANCE_M"],
                               access=app_access())[0]
    session.commit()
    return dataclasses.asdict(result.outcome)


@blueprint.post("/quarantine/<int:quarantine_id>/resolve")
@requires("coordinator")
@blueprint.arguments(ResolveSiteSchema, as_kwargs=True)
@blueprint.response(200, OutcomeSchema, description="The outcome of storing it at the site named")
def resolve_site(quarantine_id: int, site_id: str):
    """Store a submission quarantined as `unknown_site` at the site the coordinator names."""
    principal = require_principal()
    session = db_session()
    row = _pending_row(principal, session, quarantine_id)
    try:
        result = operations.resolve_site(session, principal.actor, row, site_id,
                                         match_distance_m=current_app.config["SITE_MATCH_DISTANCE_M"],
                                         access=app_access())
    except operations.ResolveError as exc:
        raise ApiError(422, "invalid_site", str(exc), {"site_id": site_id}) from exc
    session.commit()
    return dataclasses.asdict(result.outcome)


def _pending_row(principal, session, quarantine_id: int) -> QuarantinedSubmission:
    """The caller's operation's pending row (another operation's: 404, never leaked)."""
    row = session.get(QuarantinedSubmission, quarantine_id)
    if row is None or row.operation_id is None or not principal.has_role(row.operation_id, "coordinator"):
        raise ApiError(404, "not_found", f"No quarantined submission {quarantine_id}.")
    if row.status != "pending":
        raise ApiError(409, "conflict", f"Quarantined submission {quarantine_id} was already {row.status}.",
                       {"status": row.status, "submission_id": row.submission_id})
    return row


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
