"""The dashboard (/dashboard): risk and task figures for everyone signed in; the latest
interviews and the quarantine for coordinators (/dashboard/quarantine)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crisis_ct.kobo import operations
from crisis_ct.kobo.access import app_access
from crisis_ct.kobo.ingest import QUARANTINED
from crisis_ct.kobo.models import QuarantinedSubmission
from crisis_ct.kobo.operations import pending_quarantine
from crisis_ct.projection.audience import split_by_audience
from crisis_ct.projection.submissions import sees_submissions
from crisis_ct.tasks.service import catalogues
from crisis_ct.timeutil import utcnow
from crisis_ct.web import dashboard_data
from crisis_ct.web.access import page_principal, page_requires
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.labels import page_language
from crisis_ct.web.risk_view import paginate
from crisis_ct.web.task_board import FILTER_STATUSES
from crisis_ct.web_db import db_session

QUARANTINE_PAGE = 50


@blueprint.get("/dashboard")
@page_requires("viewer")
def dashboard():
    principal = page_principal()
    session = db_session()
    rows, total = dashboard_data.phase_rows(session, principal, page_language())
    mitigation, _ = catalogues()
    operation_ids = principal.operation_ids("viewer")
    counts = dashboard_data.task_counts(session, operation_ids, utcnow(),
                                        admin_level_only=split_by_audience(principal, operation_ids)[1])
    # Interviews and the quarantine: only where crisis_ct.projection.submissions shows them.
    coordinator_ops = [op for op in operation_ids if sees_submissions(principal, op)]
    context = {"rows": rows, "total": total, "counts": counts, "priorities": list(mitigation.priorities),
               "statuses": FILTER_STATUSES, "is_coordinator": bool(coordinator_ops)}
    if coordinator_ops:
        quarantined, _rows = pending_quarantine(session, coordinator_ops, limit=1)
        context.update(submissions=dashboard_data.recent_submissions(session, coordinator_ops),
                       quarantined=quarantined)
    return render_template("dashboard.html", **context)


@blueprint.get("/dashboard/quarantine")
@page_requires("coordinator")
def quarantine():
    principal = page_principal()
    operation_ids = principal.operation_ids("coordinator")
    total, _ = pending_quarantine(db_session(), operation_ids, limit=1)
    page = paginate(range(total), request.args.get("page", 1), QUARANTINE_PAGE)
    _, items = pending_quarantine(db_session(), operation_ids, limit=QUARANTINE_PAGE,
                                  offset=(page.number - 1) * QUARANTINE_PAGE)
    return render_template("quarantine.html", items=items, page=page, operation_codes=principal.operation_codes)


@blueprint.post("/dashboard/quarantine/<int:quarantine_id>/<action>")
@page_requires("coordinator")
def quarantine_action(quarantine_id: int, action: str):
    """Replay a quarantined interview, or store it at the site the coordinator names."""
    if action not in ("replay", "resolve"):
        abort(404)
    principal = page_principal()
    session = db_session()
    row = session.get(QuarantinedSubmission, quarantine_id)
    if row is None or row.operation_id not in principal.operation_ids("coordinator"):
        abort(404)
    if row.status != "pending":
        flash(_("This interview is no longer waiting in quarantine."), "conflict")
        return redirect(url_for("web.quarantine"), code=303)
    distance = current_app.config["SITE_MATCH_DISTANCE_M"]
    if action == "replay":
        outcome = operations.replay(session, principal.actor, [row], match_distance_m=distance,
                                    access=app_access())[0].outcome
    else:
        try:
            outcome = operations.resolve_site(session, principal.actor, row, request.form.get("site_id", ""),
                                              match_distance_m=distance, access=app_access()).outcome
        except operations.ResolveError:
            session.rollback()
            flash(_("That site id is not a site of this operation."), "conflict")
            return redirect(url_for("web.quarantine"), code=303)
    session.commit()
    if outcome.status == QUARANTINED:
        flash(_("Still in quarantine: %(reason)s", reason=outcome.reason), "conflict")
    else:
        flash(_("Stored."), "success")
    return redirect(url_for("web.quarantine"), code=303)
