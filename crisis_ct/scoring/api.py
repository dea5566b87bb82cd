"""Risk scores with their reasons, and the indicator catalogue."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from crisis_ct.accounts.auth import require_principal, requires, scoped_operation_ids
from crisis_ct.errors import ApiError
from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.languages import LANGUAGES
from crisis_ct.products import DISCLAIMER
from crisis_ct.projection import areas
from crisis_ct.schemas import OperationQuery
from crisis_ct.scoring import reads
from crisis_ct.scoring.service import catalogue
from crisis_ct.web_db import db_session

blueprint = Blueprint("scoring", __name__, url_prefix="/api/v1", description="Trafficking-risk severity")


class LangQuery(Schema):
    lang = fields.String(validate=validate.OneOf(LANGUAGES))


def _site(site_code: str, operation: str | None, min_role: str) -> Site:
    operation_ids = scoped_operation_ids(require_principal(), operation, min_role)
    site = db_session().scalar(sa.select(Site).where(Site.site_code == site_code,
                                                     Site.operation_id.in_(operation_ids)).order_by(Site.id))
    if site is None:
        raise ApiError(404, "not_found", f"No site '{site_code}'.")
    return site


@blueprint.get("/sites/<site_id>/risk")
@requires("expert")
@blueprint.arguments(OperationQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="The site's current trafficking-risk phase and why")
def site_risk(site_id: str, operation=None):
    """Site-level indicators are for deployed experts and coordinators only (domain.md §4.3)."""
    site = _site(site_id, operation, "expert")
    risk = reads.site_risk(db_session(), site)
    if risk is None:
        raise ApiError(404, "not_assessed", f"Site '{site_id}' has no assessment yet.")
    return jsonify(risk)


@blueprint.get("/sites/<site_id>/risk/history")
@requires("expert")
@blueprint.arguments(OperationQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="Every computation of the site's risk, oldest first")
def site_risk_history(site_id: str, operation=None):
    site = _site(site_id, operation, "expert")
    return jsonify({"site_id": site.site_code, "items": reads.site_history(db_session(), site),
                    "disclaimer": DISCLAIMER})


@blueprint.get("/admin-areas/<pcode>/risk")
@requires("viewer")
@blueprint.arguments(OperationQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="The admin area's classification and its basis")
def area_risk(pcode: str, operation=None):
    principal = require_principal()
    operation_ids = scoped_operation_ids(principal, operation)
    area = db_session().scalar(sa.select(AdminArea).where(AdminArea.pcode == pcode,
                                                          AdminArea.operation_id.in_(operation_ids)))
    if area is None:
        raise ApiError(404, "not_found", f"No admin area '{pcode}'.")
    risk = reads.area_risk(db_session(), area)
    if risk is None:
        raise ApiError(404, "not_assessed", f"Admin area '{pcode}' has not been scored yet.")
    return jsonify(areas.area(principal, area.operation_id, risk, reads.partner_counts_reader(db_session())))


@blueprint.get("/indicators")
@requires("viewer")
@blueprint.arguments(LangQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="The indicator catalogue in use (EN and FR)")
def indicators(lang=None):
    return jsonify(catalogue().to_dict(lang))
