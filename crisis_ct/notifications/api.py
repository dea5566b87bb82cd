"""The notifications API: a person's own notifications and preferences, nobody else's.
Another person's notification is a 404, as if it did not exist."""
from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint

from crisis_ct.accounts.auth import require_principal, requires
from crisis_ct.errors import ApiError
from crisis_ct.notifications import preferences, store
from crisis_ct.notifications.messages import language_of, notification_json
from crisis_ct.notifications.rules import notification_rules
from crisis_ct.notifications.schemas import NotificationsQuery, PreferencesBody
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import db_session

blueprint = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description=(
    "Your notifications (new tasks that match you, your claims and tasks; for coordinators, "
    "high-risk sites, hot-spots, the quarantine and Kobo failures) and how you receive them."))


def _language(principal, requested: str | None) -> str:
    return requested or language_of(principal.preferred_language, principal.languages)


@blueprint.get("")
@requires("viewer")
@blueprint.arguments(NotificationsQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="Your notifications, newest first: {total, unread, limit, offset, items}")
def list_notifications(limit=100, offset=0, unread=False, lang=None):
    principal = require_principal()
    session = db_session()
    total, rows = store.list_for(session, principal.user_id, unread_only=bool(unread), limit=limit, offset=offset)
    language, rules = _language(principal, lang), notification_rules()
    return jsonify({"total": total, "unread": store.unread_count(session, principal.user_id), "limit": limit,
                    "offset": offset, "items": [notification_json(rules, row, language) for row in rows]})


@blueprint.post("/<int:notification_id>/read")
@requires("viewer")
@blueprint.response(200, description="The notification, marked read")
def read_notification(notification_id: int):
    principal = require_principal()
    session = db_session()
    row = store.mark_read(session, principal.user_id, notification_id, utcnow())
    if row is None:
        raise ApiError(404, "not_found", "No such notification.")
    session.commit()
    return jsonify(notification_json(notification_rules(), row, _language(principal, None)))


@blueprint.get("/preferences")
@requires("viewer")
@blueprint.response(200, description="Your notification preferences")
def get_preferences():
    principal = require_principal()
    return jsonify(preferences.load(db_session(), principal.user_id).as_json())


@blueprint.put("/preferences")
@requires("viewer")
@blueprint.arguments(PreferencesBody)
@blueprint.response(200, description="Your notification preferences, changed")
def put_preferences(body):
    principal = require_principal()
    session = db_session()
    try:
        saved = preferences.save(session, principal.user_id, body, now=utcnow())
    except preferences.PreferencesError as error:
        raise ApiError(422, "invalid_preferences", error.message, {"field": error.field}) from error
    session.commit()
    return jsonify(saved.as_json())
