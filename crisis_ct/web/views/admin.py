"""The audit log page: who did what, for coordinators and admins of an operation."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request

from crisis_ct.accounts.models import AuditEvent
from crisis_ct.web.access import page_principal, page_requires
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.risk_view import paginate
from crisis_ct.web_db import db_session

MAX_EVENTS = 2000


@blueprint.get("/admin/audit")
@page_requires("coordinator")
def audit_log():
    principal = page_principal()
    operation_ids = principal.operation_ids("coordinator")
    # Only events tied to the coordinator's own operations: sign-ins carry no
    # operation and stay out, so nobody watches another operation's people.
    events = db_session().scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.operation_id.in_(operation_ids))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(MAX_EVENTS)
    ).all()
    page = paginate(events, request.args.get("page", 1))
    return render_template("audit.html", page=page, operation_codes=principal.operation_codes)
