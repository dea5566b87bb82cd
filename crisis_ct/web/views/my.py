"""/my: the field expert's page, made for a phone on a slow or absent network.

The HTML is a shell without data; its script draws the tasks from `/my/data.json` (the same
document as `GET /api/v1/my`, plus a fresh CSRF token) and keeps the last copy, and a service
worker (`/my/sw.js`) keeps the shell, so the page opens offline after one visit. Notes and
completions go through `/my/tasks/<id>/<action>` with the client-generated id that makes
a resend harmless (crisis_ct.tasks.client_requests); these answer JSON, errors included.
"""
from __future__ import annotations

from flask import Response, jsonify, render_template, request
from flask_wtf.csrf import generate_csrf
from marshmallow import ValidationError

from crisis_ct.errors import ApiError, error_response
from crisis_ct.tasks.api import REPEAT_HEADER, apply_note
from crisis_ct.tasks.client_requests import OFFLINE_ACTIONS
from crisis_ct.tasks.history import MAX_COMMENT_LENGTH
from crisis_ct.tasks.my_tasks import my_tasks
from crisis_ct.tasks.schemas import MyTasksQuery, NoteBody
from crisis_ct.tasks.service import catalogues
from crisis_ct.timeutil import utcnow
from crisis_ct.web.access import page_principal, page_requires
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.my_page import SCOPE, page_strings, service_worker_source
from crisis_ct.web_db import db_session


@blueprint.get("/my")
@page_requires("expert")
def my_page():
    mitigation, _ = catalogues()
    return render_template("my.html", strings=page_strings(mitigation.priorities), max_comment=MAX_COMMENT_LENGTH,
                           user_id=page_principal().user_id)


@blueprint.get("/my/data.json")
@page_requires("expert")
def my_data():
    try:
        query = MyTasksQuery().load(request.args.to_dict())
    except ValidationError as exc:
        return error_response(422, "invalid", "Bad query.", {"fields": exc.messages})
    data = my_tasks(db_session(), page_principal(), now=utcnow(), near=query.get("near"),
                    within_km=query.get("within_km"))
    # The page's token for its next notes: one taken from an old copy of the shell may have expired.
    data["csrf_token"] = generate_csrf()
    return jsonify(data)


@blueprint.post("/my/tasks/<int:task_id>/<action>")
@page_requires("expert")
def my_task_note(task_id: int, action: str):
    if action not in OFFLINE_ACTIONS:
        return error_response(404, "not_found", f"No action {action} here.")
    try:
        body = NoteBody().load(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return error_response(422, "invalid", "The note could not be read.", {"fields": exc.messages})
    try:
        applied = apply_note(page_principal(), task_id, action, comment=body.get("comment"),
                             client_id=body.get("client_id"))
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    response = jsonify(applied.body)
    if applied.repeated:
        response.headers[REPEAT_HEADER] = "true"
    return response


@blueprint.get("/my/sw.js")
@page_requires("expert")
def my_service_worker():
    response = Response(service_worker_source(), mimetype="text/javascript")
    # The script sits at /my/sw.js; this lets it control /my itself, not only /my/….
    response.headers["Service-Worker-Allowed"] = SCOPE
    return response
