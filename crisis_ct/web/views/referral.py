"""The referral directory pages: the list (/service-providers, experts and above), adding,
changing, verifying and removing a provider and importing the service-mapping sheet
(coordinators of its operation), and the printable referral card of an admin area
(/referral-card/<pcode>, EN/FR). Viewers get the 403 page (crisis_ct.referral.api says why).

The forms run through the same functions as the API (crisis_ct.referral.directory), so the
page refuses what the API refuses, field by field."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _

from crisis_ct.errors import ApiError
from crisis_ct.geography.models import AdminArea
from crisis_ct.referral import coverage, directory, places
from crisis_ct.referral.api import import_sheet
from crisis_ct.referral.entries import EntryInvalid
from crisis_ct.referral.models import ServiceProvider
from crisis_ct.referral.service_types import service_types
from crisis_ct.timeutil import utcnow
from crisis_ct.web.access import page_principal, page_requires
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.labels import page_language
from crisis_ct.web_db import db_session

FORM_FIELDS = ("code", "organisation", "service_point_name", "longitude", "latitude", "opening_hours",
               "focal_point_role", "office_phone", "office_email", "referral_requirements", "last_verified_on")


def _coordinated_operations() -> dict[int, str]:
    principal = page_principal()
    return {op_id: principal.operation_codes[op_id] for op_id in principal.operation_ids("coordinator")}


def _chosen_operation(operations: dict[int, str]) -> int:
    """The operation the form names, among those the person coordinates; else a 404."""
    wanted = request.form.get("operation")
    operation_id = next((op_id for op_id, code in operations.items() if code == wanted), None)
    if operation_id is None:
        abort(404)
    return operation_id


def _provider(provider_id: int, min_role: str) -> ServiceProvider:
    """Another operation's provider is a 404, one the person may only read a 403."""
    principal = page_principal()
    provider = db_session().get(ServiceProvider, provider_id)
    if provider is None or not principal.has_role(provider.operation_id, "expert"):
        abort(404)
    if not principal.has_role(provider.operation_id, min_role):
        abort(403)
    return provider


@blueprint.get("/service-providers")
@page_requires("expert")
def service_providers():
    principal = page_principal()
    operation_ids = principal.operation_ids("expert")
    types = service_types()
    wanted_type = request.args.get("service_type") or None
    if wanted_type not in types.types:
        wanted_type = None
    pcode = (request.args.get("pcode") or "").strip()[:32]
    views = places.providers_covering(db_session(), operation_ids, pcode, wanted_type)
    today = utcnow().date()
    stale = {view.id for view in views if coverage.is_stale(view.last_verified_on, today, types.stale_after_days)}
    return render_template("service_providers.html", providers=views, stale=stale, types=types,
                           wanted_type=wanted_type, pcode=pcode, coordinated=_coordinated_operations(),
                           operation_codes=principal.operation_codes, stale_days=types.stale_after_days)


def _form_raw() -> dict:
    raw = {name: request.form.get(name, "") for name in FORM_FIELDS}
    raw["service_types"] = request.form.getlist("service_types")
    raw["area_pcodes"] = request.form.get("area_pcodes", "")
    raw["languages"] = request.form.get("languages", "")
    return raw


def _form_values(view) -> dict:
    if view is None:
        return {"service_types": [], "area_pcodes": "", "languages": ""}
    return {name: getattr(view, name, None) or "" for name in FORM_FIELDS if name not in ("longitude", "latitude")} | {
        "longitude": "" if view.lon is None else f"{view.lon:.6f}",
        "latitude": "" if view.lat is None else f"{view.lat:.6f}",
        "last_verified_on": view.last_verified_on.isoformat() if view.last_verified_on else "",
        "service_types": view.service_type_codes, "area_pcodes": "; ".join(view.pcodes),
        "languages": ", ".join(view.languages or ())}


def _render_form(values: dict, errors: dict, provider_id: int | None, operation_code: str | None, status: int = 200):
    return render_template("service_provider_form.html", values=values, errors=errors, provider_id=provider_id,
                           types=service_types(), operations=_coordinated_operations(),
                           operation_code=operation_code), status


def _save(operation_id: int, provider: ServiceProvider | None):
    session = db_session()
    raw = _form_raw()
    try:
        saved = directory.save_provider(session, page_principal().actor, operation_id, raw, types=service_types(),
                                        today=utcnow().date(), provider=provider)
    except EntryInvalid as exc:
        session.rollback()
        return _render_form(raw, exc.errors, provider.id if provider else None,
                            page_principal().operation_codes.get(operation_id), 422)
    except directory.DuplicateCode as exc:
        session.rollback()
        return _render_form(raw, {"code": str(exc)}, provider.id if provider else None,
                            page_principal().operation_codes.get(operation_id), 409)
    session.commit()
    flash(_("Saved: %(organisation)s", organisation=saved.organisation), "success")
    return redirect(url_for("web.service_providers"), code=303)


@blueprint.route("/service-providers/new", methods=["GET", "POST"])
@page_requires("coordinator")
def new_service_provider():
    operations = _coordinated_operations()
    if request.method == "GET":
        return _render_form(_form_values(None), {}, None, next(iter(operations.values()), None))
    return _save(_chosen_operation(operations), None)


@blueprint.route("/service-providers/<int:provider_id>/edit", methods=["GET", "POST"])
@page_requires("coordinator")
def edit_service_provider(provider_id: int):
    provider = _provider(provider_id, "coordinator")
    if request.method == "POST":
        return _save(provider.operation_id, provider)
    view = directory.list_providers(db_session(), [provider.operation_id], provider_id=provider.id)[0]
    return _render_form(_form_values(view), {}, provider.id, page_principal().operation_codes.get(provider.operation_id))


@blueprint.post("/service-providers/<int:provider_id>/verify")
@page_requires("coordinator")
def verify_service_provider_page(provider_id: int):
    provider = _provider(provider_id, "coordinator")
    directory.mark_verified(db_session(), page_principal().actor, provider, utcnow().date())
    db_session().commit()
    flash(_("Marked as verified today: %(organisation)s", organisation=provider.organisation), "success")
    return redirect(request.form.get("next") == "dashboard" and url_for("web.dashboard")
                    or url_for("web.service_providers"), code=303)


@blueprint.post("/service-providers/<int:provider_id>/delete")
@page_requires("coordinator")
def delete_service_provider_page(provider_id: int):
    provider = _provider(provider_id, "coordinator")
    name = provider.organisation
    directory.delete_provider(db_session(), page_principal().actor, provider)
    db_session().commit()
    flash(_("Removed: %(organisation)s", organisation=name), "success")
    return redirect(url_for("web.service_providers"), code=303)


@blueprint.route("/service-providers/import", methods=["GET", "POST"])
@page_requires("coordinator")
def import_service_providers():
    operations = _coordinated_operations()
    if request.method == "GET":
        return render_template("service_providers_import.html", operations=operations, problems=[])
    operation_id = _chosen_operation(operations)
    upload = request.files.get("file")
    if upload is None:
        abort(400)
    try:
        result = import_sheet(page_principal().actor, operation_id, upload.read(), upload.filename or "")
    except ApiError as exc:
        return render_template("service_providers_import.html", operations=operations, message=exc.message,
                               problems=exc.details.get("rows", [])), exc.status
    flash(_("Imported: %(created)s new, %(updated)s updated.", created=result.created, updated=result.updated),
          "success")
    return redirect(url_for("web.service_providers"), code=303)


@blueprint.get("/referral-card/<pcode>")
@page_requires("expert")
def referral_card(pcode: str):
    """One admin area's providers by service type, with how to reach them: printed or saved
    before going where there is no network. `?lang=fr` prints it in French."""
    principal = page_principal()
    operation_ids = principal.operation_ids("expert")
    session = db_session()
    area = session.scalar(sa.select(AdminArea).where(AdminArea.pcode == pcode, AdminArea.operation_id.in_(
        operation_ids)).order_by(AdminArea.id)) if operation_ids else None
    if area is None:
        if principal.operation_ids("viewer") and session.scalar(sa.select(AdminArea.id).where(
                AdminArea.pcode == pcode, AdminArea.operation_id.in_(principal.operation_ids("viewer")))):
            abort(403)
        abort(404)
    language = request.args.get("lang") if request.args.get("lang") in ("en", "fr") else page_language()
    parents = dict(session.execute(sa.select(AdminArea.pcode, AdminArea.parent_pcode)
                                   .where(AdminArea.operation_id == area.operation_id)).all())
    chain = coverage.area_chain(area.pcode, parents)
    listed = places.providers_for(session, area.operation_id, chain, None, None, None)
    types = service_types()
    by_type = [(code, [item.provider for item in listed if code in item.matching_types]) for code in types.types]
    with force_locale(language):
        return render_template("referral_card.html", area=area, area_name=area.name(language),
                               card_language=language, by_type=by_type, types=types, today=utcnow().date())
