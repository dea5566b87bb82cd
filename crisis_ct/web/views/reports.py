"""The situation snapshot: /reports/snapshot?area=PCODE&lang=fr (the whole operation without
`area`; `operation=CODE` picks one of several) as an A4 page to print, and the same page as
a PDF at /reports/snapshot.pdf. What it holds and how each reader sees it:
crisis_ct.reports.snapshot."""
from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import force_locale, gettext as _
from werkzeug.utils import secure_filename

from crisis_ct.reports import scope as scopes
from crisis_ct.reports.pdf import html_to_pdf
from crisis_ct.reports.snapshot import build_snapshot
from crisis_ct.timeutil import utcnow
from crisis_ct.web.access import page_principal, page_requires
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.i18n import SUPPORTED_LANGUAGES
from crisis_ct.web.labels import page_language
from crisis_ct.web.static_assets import STATIC_DIR
from crisis_ct.web_db import db_session

STYLESHEET = "css/snapshot.css"


def _scope():
    """The operation and area asked for, among the reader's operations; else 404."""
    principal = page_principal()
    session = db_session()
    wanted_operation = request.args.get("operation")
    area = request.args.get("area") or None
    for operation_id in principal.operation_ids("viewer"):
        if wanted_operation and principal.operation_codes.get(operation_id) != wanted_operation:
            continue
        scope = scopes.resolve(session, operation_id, area)
        if scope is not None:
            return scope
    abort(404)


def _language() -> str:
    wanted = request.args.get("lang")
    return wanted if wanted in SUPPORTED_LANGUAGES else page_language()


def _render(*, for_pdf: bool) -> tuple[str, object]:
    principal = page_principal()
    scope = _scope()
    language = _language()
    session = db_session()
    with force_locale(language):
        snapshot = build_snapshot(session, principal, scope, scopes.operation_areas(session, scope.operation_id),
                                  utcnow(), language, map_title=_("Risk map"))
        html = render_template("reports/snapshot.html", s=snapshot, for_pdf=for_pdf, current_language=language)
    return html, snapshot


@blueprint.get("/reports/snapshot")
@page_requires("viewer")
def snapshot_page():
    html, _snapshot = _render(for_pdf=False)
    return html


@blueprint.get("/reports/snapshot.pdf")
@page_requires("viewer")
def snapshot_pdf():
    html, snapshot = _render(for_pdf=True)
    pdf = html_to_pdf(html, [STATIC_DIR / STYLESHEET])
    parts = ["snapshot", snapshot.operation_code, snapshot.area.pcode if snapshot.area else None,
             snapshot.generated_at.date().isoformat(), snapshot.language]
    filename = secure_filename("-".join(part for part in parts if part) + ".pdf")
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
