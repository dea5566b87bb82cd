"""`GET /api/v1/exports/<dataset>.<format>`: the list APIs' rows as files, streamed.

One route per dataset and format (no URL variables): each parses its list API's filters,
decides the operations and the profile, and hands over to crisis_ct.exports.products."""
from __future__ import annotations

from typing import Iterator

from flask import Response
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from crisis_ct.accounts.auth import require_principal, requires, scoped_operation_ids
from crisis_ct.errors import ApiError
from crisis_ct.exports import products
from crisis_ct.exports.sources import ExportRefused
from crisis_ct.geography.schemas import AdminAreasQuery, SitesQuery
from crisis_ct.kobo.schemas import SubmissionsQuery
from crisis_ct.schemas import OperationQuery
from crisis_ct.tasks.schemas import TasksQuery
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import database

blueprint = Blueprint("exports", __name__, url_prefix="/api/v1/exports", description=(
    "Sites, admin areas, tasks, submissions and the 4W as CSV (with an HXL hashtag row), XLSX or GeoJSON, "
    "with the list APIs' filters, each row as your role may see it. `profile=public` (coordinators): "
    "admin 1/2 areas under the public rules."))

PAGING = ("limit", "offset")  # an export holds every row
PUBLIC_ROLE = "coordinator"


class _Profile(OperationQuery):
    profile = fields.String(load_default="role", validate=validate.OneOf(["role", "public"]),
                            metadata={"description": "`public`: the public rules of domain.md §4.3 (coordinators)"})
    lang = fields.String(load_default="en", validate=validate.OneOf(["en", "fr"]))


class SitesExportQuery(SitesQuery, _Profile):
    pass


class AreasExportQuery(AdminAreasQuery, _Profile):
    pass


class TasksExportQuery(TasksQuery, _Profile):
    pass


class SubmissionsExportQuery(SubmissionsQuery, _Profile):
    pass


class FourWExportQuery(_Profile):
    pcode = fields.String(metadata={"description": "Tasks of this admin area (any level)"})


QUERIES = {"sites": SitesExportQuery, "admin-areas": AreasExportQuery, "tasks": TasksExportQuery,
           "submissions": SubmissionsExportQuery, "4w": FourWExportQuery}
NOT_FILTERS = {"operation", "profile", "lang", "simplify", *PAGING}


def export_response(dataset: str, fmt: str, arguments: dict) -> Response:
    principal = require_principal()
    public = arguments.get("profile") == "public"
    operation_ids = scoped_operation_ids(principal, arguments.get("operation"),
                                         PUBLIC_ROLE if public else "viewer")
    if public and not operation_ids:
        raise ApiError(403, "forbidden", "The public profile is for the operation's coordinators and admins.")
    filters = {key: value for key, value in arguments.items() if key not in NOT_FILTERS}
    if dataset == "tasks":
        language = filters.pop("language", None)
        filters["languages"] = tuple(principal.languages) if language == "mine" else ((language,) if language else ())
    request = products.ExportRequest(
        dataset, fmt, operation_ids, [principal.operation_codes.get(op, str(op)) for op in operation_ids],
        public=public, lang=arguments.get("lang", "en"), filters=filters)
    # The stream outlives the request (whose session closes at its teardown, before the body
    # is sent): the export reads through a session of its own, closed when the body is done.
    session = database().read_only_session()
    try:
        export = products.build(session, principal, request, now=utcnow())
    except ExportRefused as exc:
        session.close()
        raise ApiError(403, "forbidden", str(exc)) from exc
    except BaseException as exc:
        session.close()
        if isinstance(exc, products.ExportError):
            raise ApiError(400, "bad_request", str(exc)) from exc
        raise
    return Response(_closing(export.chunks, session), mimetype=export.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{export.filename}"', "Cache-Control": "no-store"})


def _closing(chunks: Iterator[bytes], session: Session) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        session.close()


def _register(dataset: str, fmt: str) -> None:
    schema = QUERIES[dataset](exclude=tuple(name for name in PAGING if name in QUERIES[dataset]._declared_fields))

    def view(**arguments):
        return export_response(dataset, fmt, arguments)

    view.__name__ = f"export_{dataset.replace('-', '_')}_{fmt}"
    view.__doc__ = f"{dataset} as {fmt.upper()}, each row as your role may see it."
    decorated = blueprint.response(200, description=f"The {dataset} export, streamed")(view)
    decorated = blueprint.arguments(schema, location="query", as_kwargs=True)(decorated)
    decorated = requires("viewer")(decorated)
    blueprint.route(f"/{dataset}.{fmt}", methods=["GET"], endpoint=view.__name__)(decorated)


for _dataset, _formats in products.FORMATS.items():
    for _fmt in _formats:
        _register(_dataset, _fmt)
