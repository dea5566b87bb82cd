"""Why a place has its phase: the site page (/sites/<site_id>, experts and above,
domain.md §4.3) and the admin-area page (/areas/<pcode>, everyone signed in; small
counts suppressed for viewers)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template

from crisis_ct.geography.models import AdminArea, Site
from crisis_ct.projection import areas as area_projection
from crisis_ct.projection.audience import sees_site_level
from crisis_ct.scoring import reads
from crisis_ct.scoring.service import catalogue
from crisis_ct.tasks import queries
from crisis_ct.tasks.service import catalogues
from crisis_ct.timeutil import utcnow
from crisis_ct.web.access import page_principal, page_requires
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.history_chart import history_chart
from crisis_ct.web.referral_data import site_referral
from crisis_ct.web.labels import page_language
from crisis_ct.web.risk_view import ADMIN_LEVELS
from crisis_ct.web.site_view import indicator_names, indicator_rows
from crisis_ct.web_db import db_session

SITE_TASK_LIMIT = 50


def _find_site(site_code: str) -> Site:
    """A site of an operation where the person is an expert; a site they can only see as a
    viewer is the 403 page (it exists, they may not read its indicators), any other a 404."""
    principal = page_principal()
    session = db_session()

    def lookup(operation_ids):
        if not operation_ids:
            return None
        return session.scalar(sa.select(Site).where(Site.site_code == site_code,
                                                    Site.operation_id.in_(operation_ids)).order_by(Site.id))

    site = lookup(principal.operation_ids("expert"))
    if site is not None:
        return site
    if lookup(principal.operation_ids("viewer")) is not None:
        abort(403)
    abort(404)


@blueprint.get("/sites/<site_id>")
@page_requires("expert")
def site_page(site_id: str):
    session = db_session()
    site = _find_site(site_id)
    language = page_language()
    risk = reads.site_risk(session, site)
    history = reads.site_history(session, site)
    mitigation, _ = catalogues()
    _, tasks = queries.list_tasks(session, [site.operation_id], queries.TaskFilters(site_id=site.site_code),
                                  priorities=list(mitigation.priorities), now=utcnow(), limit=SITE_TASK_LIMIT,
                                  offset=0)
    context = {"site": site, "risk": risk, "chart": history_chart(history), "history": history, "tasks": tasks,
               "referral": site_referral(session, site, tasks)}
    if risk is not None:
        context.update(
            rows=indicator_rows(risk, catalogue(), language),
            critical_names=indicator_names(risk, risk.get("critical_signals") or (), language),
            unconfirmed_names=indicator_names(risk, risk.get("unconfirmed_signals") or (), language),
            driver_names=indicator_names(risk, risk.get("drivers") or (), language),
        )
    return render_template("site.html", **context)


def _find_area(pcode: str) -> AdminArea:
    operation_ids = page_principal().operation_ids("viewer")
    area = db_session().scalar(sa.select(AdminArea).where(AdminArea.pcode == pcode,
                                                          AdminArea.operation_id.in_(operation_ids))
                               .order_by(AdminArea.id)) if operation_ids else None
    if area is None:
        abort(404)
    return area


def _child_areas(area: AdminArea) -> list[dict]:
    session = db_session()
    children = session.scalars(sa.select(AdminArea).where(
        AdminArea.operation_id == area.operation_id, AdminArea.parent_pcode == area.pcode,
        AdminArea.level == area.level + 1).order_by(AdminArea.pcode)).all()
    properties = reads.area_map_properties(session, [child.id for child in children])
    language = page_language()
    principal = page_principal()
    return [{"pcode": child.pcode, "name": child.name(language),
             **{key: shown.get(key) for key in ("phase", "status", "hotspot")}}
            for child in children
            for shown in [area_projection.area(principal, child.operation_id,
                                               {**(properties.get(child.id) or {}), "pcode": child.pcode},
                                               reads.partner_counts_reader(session))]]


def _parent(area: AdminArea) -> AdminArea | None:
    if not area.parent_pcode:
        return None
    return db_session().scalar(sa.select(AdminArea).where(AdminArea.operation_id == area.operation_id,
                                                          AdminArea.pcode == area.parent_pcode))


@blueprint.get("/areas/<pcode>")
@page_requires("viewer")
def area_page(pcode: str):
    principal = page_principal()
    area = _find_area(pcode)
    exact = sees_site_level(principal, area.operation_id)
    risk = reads.area_risk(db_session(), area)
    if risk is not None:
        risk = area_projection.area(principal, area.operation_id, risk, reads.partner_counts_reader(db_session()))
    child_level = area.level + 1 if area.level + 1 in ADMIN_LEVELS else None
    return render_template("area.html", area=area, name=area.name(page_language()), risk=risk, exact=exact,
                           children=_child_areas(area) if child_level else [], child_level=child_level,
                           parent=_parent(area))
