"""The risk map (/map) and its plain list twin (/map/list): same filters, same data."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _

from crisis_ct.geography.models import SITE_TYPES
from crisis_ct.projection.audience import sees_site_level_anywhere
from crisis_ct.web import risk_data
from crisis_ct.web.access import page_principal, page_requires
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.i18n import (CONFIDENCE_LABELS, DOMAIN_LABELS, INSUFFICIENT_DATA, NOT_ASSESSED,
                                RECENCY_LABELS, NO_SITES, PHASE_LABELS, SITE_TYPE_LABELS)
from crisis_ct.web.referral_data import service_point_layer_config
from crisis_ct.web.risk_view import ADMIN_LEVELS, RiskFilters, filter_areas, filter_sites, paginate
from crisis_ct.web_db import db_session

# Above this many sites the map asks only for those in view (bbox) instead of all at once.
BBOX_FETCH_THRESHOLD = 2000
LIST_PAGE_SIZE = 50


def _filters() -> RiskFilters:
    return RiskFilters.from_args(request.args, SITE_TYPES)


def _filter_choices() -> dict:
    return {
        "site_types": SITE_TYPES,
        "levels": ADMIN_LEVELS,
        "domains": DOMAIN_LABELS,
        "recencies": RECENCY_LABELS,
    }


def _map_config(site_total: int, *, with_sites: bool) -> dict:
    """Everything map.js needs, as data (read from a JSON script element, never inline JS).
    `with_sites`: whether the person sees site-level results anywhere; a viewer's map shows
    admin areas only (domain.md §4.3), so it asks for no sites."""
    return {
        "sitesUrl": url_for("geography.list_site_rows") if with_sites else None,
        "areasUrl": url_for("geography.list_admin_areas"),
        # Explanation pages (part 2 of the web UI): /sites/<site_id>, /areas/<pcode>.
        "siteUrl": request.script_root + "/sites/",
        "areaUrl": request.script_root + "/areas/",
        "lang": str(get_locale() or "en"),
        "tileUrl": current_app.config.get("MAP_TILE_URL", ""),
        "fetchByBbox": site_total > BBOX_FETCH_THRESHOLD,
        "labels": {
            "phases": {str(k): str(v) for k, v in PHASE_LABELS.items()},
            "notAssessed": str(NOT_ASSESSED),
            "insufficientData": str(INSUFFICIENT_DATA),
            "noSites": str(NO_SITES),
            "siteTypes": {k: str(v) for k, v in SITE_TYPE_LABELS.items()},
            "confidence": {k: str(v) for k, v in CONFIDENCE_LABELS.items()},
            "recency": {k: str(v) for k, v in RECENCY_LABELS.items()},
            "domains": {k: str(v) for k, v in DOMAIN_LABELS.items()},
            "phase": _("Phase"),
            "confidenceTitle": _("Confidence"),
            "siteTypeTitle": _("Site type"),
            "recencyTitle": _("Recency"),
            "assessed": _("Assessed on"),
            "sitesAssessed": _("Sites assessed"),
            "sites3plus": _("Sites at phase 3+"),
            "hotspot": _("Hotspot"),
            "why": _("Why this phase?"),
            "loading": _("Loading…"),
            "zoomIn": _("Zoom in"),
            "zoomOut": _("Zoom out"),
            "failed": _("The map data could not be loaded. The list view still works."),
        },
    }


@blueprint.get("/")
def index():
    return redirect(url_for("web.map_page"))


@blueprint.get("/map")
@page_requires("viewer")
def map_page():
    principal = page_principal()
    with_sites = sees_site_level_anywhere(principal)
    site_total = risk_data.site_count(db_session(), principal.operation_ids("expert")) if with_sites else 0
    filters = _filters()
    config = _map_config(site_total, with_sites=with_sites)
    if principal.operation_ids("expert"):
        config["servicePoints"] = service_point_layer_config()  # the referral directory's layer
    return render_template("map.html", filters=filters, choices=_filter_choices(), with_sites=with_sites,
                           map_config=config, site_total=site_total)


@blueprint.get("/map/list")
@page_requires("viewer")
def map_list():
    principal = page_principal()
    filters = _filters()
    operation_ids = principal.operation_ids("viewer")
    with_sites = sees_site_level_anywhere(principal)
    # Viewers see admin-level results only (domain.md §4.3): their list is of admin areas.
    show = "areas" if request.args.get("show") == "areas" or not with_sites else "sites"
    if show == "areas":
        records = risk_data.area_records(db_session(), principal, operation_ids, filters.level,
                                         str(get_locale() or "en"))
        page = paginate(filter_areas(records, filters), request.args.get("page", 1), LIST_PAGE_SIZE)
    else:
        # Only the operations whose site-level results the person sees.
        records = risk_data.site_records(db_session(), principal, principal.operation_ids("expert"))
        page = paginate(filter_sites(records, filters), request.args.get("page", 1), LIST_PAGE_SIZE)
    return render_template("map_list.html", filters=filters, choices=_filter_choices(), show=show,
                           page=page, total_known=len(records), with_sites=with_sites)
