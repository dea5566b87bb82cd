"""The referral directory API: providers of an operation, the service-mapping sheet in and
out, and the service points as GeoJSON for the map.

Experts and coordinators read; coordinators of the provider's operation write. Viewers
(cluster partners) get 403 on every route: which organisation offers counter-trafficking case
management where is the operation's referral pathway, shared with partners through the
cluster under its information-sharing protocol, not through this tool (domain.md §4.3/§4.4).
"""
from __future__ import annotations

from datetime import date

from flask import Response, jsonify, request
from flask_smorest import Blueprint

from crisis_ct.accounts.auth import require_principal, requires, scoped_operation_ids
from crisis_ct.errors import ApiError
from crisis_ct.referral import coverage, directory, places, sheet
from crisis_ct.referral.entries import EntryInvalid
from crisis_ct.referral.models import ServiceProvider
from crisis_ct.referral.schemas import ExportQuery, ImportQuery, ProviderBody, ProvidersQuery
from crisis_ct.referral.service_types import service_types
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import db_session

blueprint = Blueprint("referral", __name__, url_prefix="/api/v1", description=(
    "The referral directory: service providers (institutional contacts only) and the service-mapping sheet. "
    "Experts and coordinators read, coordinators write; viewers get 403."))

GEOJSON = "application/geo+json"


def _today() -> date:
    return utcnow().date()


def provider_json(view: directory.ProviderView, operation_code: str, today: date) -> dict:
    types = service_types()
    point = None
    if view.service_point_name or view.lon is not None:
        point = {"name": view.service_point_name, "lon": view.lon, "lat": view.lat}
    return {
        "id": view.id, "code": view.code, "operation": operation_code, "organisation": view.organisation,
        "service_types": view.service_type_codes, "area_pcodes": view.pcodes, "service_point": point,
        "languages": list(view.languages or ()), "opening_hours": view.opening_hours,
        "focal_point_role": view.focal_point_role, "office_phone": view.office_phone,
        "office_email": view.office_email, "referral_requirements": view.referral_requirements,
        "last_verified_on": view.last_verified_on.isoformat() if view.last_verified_on else None,
        "stale": coverage.is_stale(view.last_verified_on, today, types.stale_after_days),
    }


def _codes(principal) -> dict[int, str]:
    return principal.operation_codes


def _provider(provider_id: int, min_role: str) -> ServiceProvider:
    """Another operation's provider (or one the caller may only view) is a 404: nothing leaks."""
    principal = require_principal()
    provider = db_session().get(ServiceProvider, provider_id)
    if provider is None or not principal.has_role(provider.operation_id, "expert"):
        raise ApiError(404, "not_found", f"No service provider {provider_id}.")
    if not principal.has_role(provider.operation_id, min_role):
        raise ApiError(403, "forbidden", f"This needs the role '{min_role}' in the provider's operation.")
    return provider


def _invalid(exc: EntryInvalid) -> ApiError:
    return ApiError(422, "invalid", "The provider was not saved: " + str(exc), {"fields": exc.errors})


@blueprint.get("/service-providers")
@requires("expert")
@blueprint.arguments(ProvidersQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="Providers: {total, items}")
def list_service_providers(operation=None, service_type=None, pcode=None):
    principal = require_principal()
    operation_ids = scoped_operation_ids(principal, operation, "expert")
    views = places.providers_covering(db_session(), operation_ids, pcode, service_type)
    today = _today()
    items = [provider_json(view, _codes(principal).get(view.operation_id, ""), today) for view in views]
    return jsonify({"total": len(items), "items": items})


@blueprint.get("/service-providers/<int:provider_id>")
@requires("expert")
@blueprint.response(200, description="One provider")
def get_service_provider(provider_id: int):
    return _provider_response(_provider(provider_id, "expert"))


@blueprint.post("/service-providers")
@requires("coordinator")
@blueprint.arguments(ProviderBody)
@blueprint.response(201, description="The provider created")
def create_service_provider(body):
    principal = require_principal()
    if not body.get("operation"):
        raise ApiError(422, "invalid", "Name the operation.", {"fields": {"operation": ["required"]}})
    operation_id = scoped_operation_ids(principal, body.pop("operation"), "coordinator")[0]
    return _save(principal, operation_id, body, None, 201)


@blueprint.put("/service-providers/<int:provider_id>")
@requires("coordinator")
@blueprint.arguments(ProviderBody)
@blueprint.response(200, description="The provider as changed (every field replaced)")
def replace_service_provider(body, provider_id: int):
    provider = _provider(provider_id, "coordinator")
    body.pop("operation", None)
    return _save(require_principal(), provider.operation_id, body, provider, 200)


def _save(principal, operation_id: int, body: dict, provider, status: int):
    session = db_session()
    try:
        saved = directory.save_provider(session, principal.actor, operation_id, body, types=service_types(),
                                        today=_today(), provider=provider)
    except EntryInvalid as exc:
        session.rollback()
        raise _invalid(exc) from None
    except directory.DuplicateCode as exc:
        session.rollback()
        raise ApiError(409, "conflict", str(exc), {"fields": {"code": [str(exc)]}}) from None
    session.commit()
    response = _provider_response(saved)
    response.status_code = status
    return response


def _provider_response(provider: ServiceProvider):
    view = directory.list_providers(db_session(), [provider.operation_id], provider_id=provider.id)[0]
    return jsonify(provider_json(view, require_principal().operation_codes.get(provider.operation_id, ""), _today()))


@blueprint.post("/service-providers/<int:provider_id>/verify")
@requires("coordinator")
@blueprint.response(200, description="The provider, verified today")
def verify_service_provider(provider_id: int):
    provider = _provider(provider_id, "coordinator")
    session = db_session()
    directory.mark_verified(session, require_principal().actor, provider, _today())
    session.commit()
    return _provider_response(provider)


@blueprint.delete("/service-providers/<int:provider_id>")
@requires("coordinator")
@blueprint.response(204, description="Removed")
def delete_service_provider(provider_id: int):
    provider = _provider(provider_id, "coordinator")
    session = db_session()
    directory.delete_provider(session, require_principal().actor, provider)
    session.commit()
    return Response(status=204)


@blueprint.post("/service-providers/import")
@requires("coordinator")
@blueprint.arguments(ImportQuery, location="query", as_kwargs=True)
@blueprint.doc(requestBody={"content": {
    "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string",
                                                                                 "format": "binary"}}}},
    sheet.CSV_TYPE: {"schema": {"type": "string"}},
    sheet.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}})
@blueprint.response(200, description="{created, updated}; with any bad row nothing is imported (422, "
                                     "details.rows: [{row, field, message}])")
def import_service_mapping(operation):
    principal = require_principal()
    operation_id = scoped_operation_ids(principal, operation, "coordinator")[0]
    upload = request.files.get("file")
    data, filename = (upload.read(), upload.filename or "") if upload else (request.get_data(), "")
    if request.mimetype == sheet.XLSX_TYPE:
        filename = filename or "upload.xlsx"
    result = import_sheet(principal.actor, operation_id, data, filename)
    return jsonify({"created": result.created, "updated": result.updated})


def import_sheet(actor, operation_id: int, data: bytes, filename: str) -> directory.ImportResult:
    """Shared by the API and the upload page: ApiError 400/422 with the rows when refused."""
    if not data:
        raise ApiError(400, "bad_request", "Send the service-mapping sheet (CSV or XLSX).")
    try:
        rows = sheet.read_sheet(data, filename)
    except sheet.SheetUnreadable as exc:
        raise ApiError(422, "invalid", f"The sheet cannot be read: {exc}", {"rows": []}) from None
    session = db_session()
    result = directory.import_rows(session, actor, operation_id, rows, types=service_types(), today=_today(),
                                   source=filename or "upload")
    if not result.ok:
        session.rollback()
        raise ApiError(422, "invalid", f"Nothing imported: {len(result.errors)} problem(s) in the sheet.",
                       {"rows": result.errors})
    session.commit()
    return result


@blueprint.get("/service-providers/export")
@requires("expert")
@blueprint.arguments(ExportQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="The service-mapping sheet with an HXL tag row", content_type=sheet.CSV_TYPE)
@blueprint.alt_response(200, success=True, content_type=sheet.XLSX_TYPE, description="As XLSX with format=xlsx")
def export_service_mapping(operation=None, format="csv"):  # noqa: A002 - the query parameter's name
    principal = require_principal()
    operation_ids = scoped_operation_ids(principal, operation, "expert")
    body, mimetype = export_sheet(operation_ids, format)
    name = f"service-mapping-{operation or 'all'}.{format}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def export_sheet(operation_ids, format: str) -> tuple[bytes, str]:  # noqa: A002
    rows = directory.sheet_rows(db_session(), operation_ids)
    if format == "xlsx":
        return sheet.write_xlsx(rows), sheet.XLSX_TYPE
    return sheet.write_csv(rows), sheet.CSV_TYPE


@blueprint.get("/service-points")
@requires("expert")
@blueprint.arguments(ProvidersQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="GeoJSON FeatureCollection of the providers' public service points",
                    content_type=GEOJSON)
def service_points(operation=None, service_type=None, pcode=None):
    principal = require_principal()
    operation_ids = scoped_operation_ids(principal, operation, "expert")
    types = service_types()
    features = []
    for view in places.providers_covering(db_session(), operation_ids, pcode, service_type):
        if view.lon is None or types.never_located(view.service_type_codes):
            continue  # never_located providers have no point; the check keeps it so if the file changes
        features.append({"type": "Feature", "id": view.id,
                         "geometry": {"type": "Point", "coordinates": [round(view.lon, 6), round(view.lat, 6)]},
                         "properties": {"id": view.id, "organisation": view.organisation,
                                        "service_point_name": view.service_point_name,
                                        "service_types": view.service_type_codes,
                                        "opening_hours": view.opening_hours,
                                        "office_phone": view.office_phone}})
    body = jsonify({"type": "FeatureCollection", "features": features})
    body.mimetype = GEOJSON
    return body
