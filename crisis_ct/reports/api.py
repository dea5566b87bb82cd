"""GET /api/v1/early-warning: what rose and what is about to expire, as the reader may see it."""
from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint
from marshmallow import fields, validate

from crisis_ct.accounts.auth import require_principal, requires, scoped_operation_ids
from crisis_ct.errors import ApiError
from crisis_ct.products import DISCLAIMER
from crisis_ct.reports import early_warning, scope as scopes
from crisis_ct.reports.warnings import early_warning_for
from crisis_ct.schemas import OperationQuery
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import db_session

blueprint = Blueprint("reports", __name__, url_prefix="/api/v1", description="Cluster products: early warning")


class EarlyWarningQuery(OperationQuery):
    area = fields.String(metadata={"description": "An admin area's P-code: that area and the areas below it"})
    days = fields.Integer(load_default=early_warning.WINDOW_DAYS, validate=validate.Range(min=1, max=365),
                          metadata={"description": "The window: rises since this many days ago"})


@blueprint.get("/early-warning")
@requires("viewer")
@blueprint.arguments(EarlyWarningQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="Admin areas whose phase rose; for experts and above also sites up by "
                                     "two phases or more and areas whose data is expiring")
def get_early_warning(operation=None, area=None, days=early_warning.WINDOW_DAYS):
    """Viewers (partners) get area rises only, between phases they could see (domain.md §4.3)."""
    principal = require_principal()
    session = db_session()
    now = utcnow()
    items = []
    for operation_id in scoped_operation_ids(principal, operation):
        scope = scopes.resolve(session, operation_id, area)
        if scope is None:
            continue
        found = early_warning_for(session, principal, scope, now, days=days)
        items.append({"operation": principal.operation_codes.get(operation_id), **found})
    if area is not None and not items:
        raise ApiError(404, "not_found", f"No admin area '{area}'.")
    return jsonify({"as_of": now.isoformat(), "items": items, "disclaimer": DISCLAIMER})
