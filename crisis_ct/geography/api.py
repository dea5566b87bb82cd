"""GeoJSON of sites and admin areas, scoped to the caller's operations."""
from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from crisis_ct.accounts.auth import requires, require_principal, scoped_operation_ids
from crisis_ct.geography import queries
from crisis_ct.geography.schemas import AdminAreasQuery, SitesQuery
from crisis_ct.projection import areas, sites
from crisis_ct.scoring.reads import partner_counts_reader
from crisis_ct.web_db import db_session

blueprint = Blueprint("geography", __name__, url_prefix="/api/v1", description="Sites and admin areas")

GEOJSON = "application/geo+json"


@blueprint.get("/sites")
@requires("viewer")
@blueprint.arguments(SitesQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="GeoJSON FeatureCollection of sites")
def list_sites(operation=None, bbox=None, pcode=None):
    """Experts and above: each site with its current risk. Viewers: where the sites are,
    without any site-level result (domain.md §4.3; crisis_ct.projection.sites)."""
    principal = require_principal()
    operation_ids = scoped_operation_ids(principal, operation)
    body = queries.sites_feature_collection(
        db_session(), operation_ids, bbox=bbox, pcode=pcode,
        visible_properties=lambda operation_id: sites.visible_properties(principal, operation_id))
    return Response(body, mimetype=GEOJSON)


@blueprint.get("/sites/rows")
@requires("viewer")
@blueprint.arguments(SitesQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="The sites as rows: {disclaimer, columns, rows: [[site_id, name, lon, lat, "
                                     "site_type, phase, domain_phases, confidence, recency, assessment_date]]}")
def list_site_rows(operation=None, bbox=None, pcode=None):
    """What the risk map draws, as one JSON array per site (a quarter of the GeoJSON's bytes).
    The same sites and projection as /sites: a result the caller may not see is null."""
    principal = require_principal()
    operation_ids = scoped_operation_ids(principal, operation)
    body = queries.site_rows(
        db_session(), operation_ids, bbox=bbox, pcode=pcode,
        visible_properties=lambda operation_id: sites.visible_properties(principal, operation_id))
    return Response(body, mimetype="application/json")


@blueprint.get("/admin-areas")
@requires("viewer")
@blueprint.arguments(AdminAreasQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="GeoJSON FeatureCollection of admin areas")
def list_admin_areas(operation=None, level=None, bbox=None, lang="en", simplify=None):
    """Viewers get small counts suppressed (crisis_ct.projection.areas)."""
    principal = require_principal()
    operation_ids = scoped_operation_ids(principal, operation)
    counts_of = partner_counts_reader(db_session())
    body = queries.admin_area_feature_collection(
        db_session(), operation_ids, level=level, bbox=bbox, lang=lang, simplify=simplify,
        project=lambda operation_id, properties: areas.area(principal, operation_id, properties, counts_of))
    return Response(body, mimetype=GEOJSON)
