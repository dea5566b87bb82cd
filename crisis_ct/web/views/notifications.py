"""The bell's page (/notifications): a person's own notifications, newest first, in the
page's language; opening one marks it read and goes to what it is about; and their
notification preferences (/notifications/preferences). The data is
crisis_ct.notifications; this module parses, authorizes and shows."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crisis_ct.notifications import preferences, store
from crisis_ct.notifications.messages import notification_json
from crisis_ct.notifications.rules import notification_rules
from crisis_ct.timeutil import utcnow
from crisis_ct.web.access import page_principal, page_requires
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.labels import page_language
from crisis_ct.web.risk_view import paginate
from crisis_ct.web_db import db_session

PAGE_SIZE = 30


@blueprint.get("/notifications")
@page_requires("viewer")
def notifications_page():
    principal, session = page_principal(), db_session()
    total, _rows = store.list_for(session, principal.user_id, limit=1)
    page = paginate(range(total), request.args.get("page", 1), PAGE_SIZE)
    _total, rows = store.list_for(session, principal.user_id, limit=PAGE_SIZE, offset=(page.number - 1) * PAGE_SIZE)
    rules, language = notification_rules(), page_language()
    items = [{**notification_json(rules, row, language), "created": row.created_at, "unread": row.read_at is None}
             for row in rows]
    return render_template("notifications.html", page=page, items=items,
                           unread=store.unread_count(session, principal.user_id))


@blueprint.get("/notifications/<int:notification_id>")
@page_requires("viewer")
def open_notification(notification_id: int):
    """The link in an email: read, then on to the task, site or page it is about."""
    session = db_session()
    row = store.mark_read(session, page_principal().user_id, notification_id, utcnow())
    if row is None:
        abort(404)
    session.commit()
    link = (row.payload or {}).get("link")
    return redirect(link if isinstance(link, str) and link.startswith("/") and not link.startswith("//")
                    else url_for("web.notifications_page"))


@blueprint.post("/notifications/<int:notification_id>/read")
@page_requires("viewer")
def mark_notification_read(notification_id: int):
    session = db_session()
    if store.mark_read(session, page_principal().user_id, notification_id, utcnow()) is None:
        abort(404)
    session.commit()
    return redirect(url_for("web.notifications_page"))


@blueprint.post("/notifications/read-all")
@page_requires("viewer")
def mark_all_notifications_read():
    session = db_session()
    store.mark_all_read(session, page_principal().user_id, utcnow())
    session.commit()
    return redirect(url_for("web.notifications_page"))


@blueprint.route("/notifications/preferences", methods=["GET", "POST"])
@page_requires("viewer")
def notification_preferences():
    principal, session = page_principal(), db_session()
    if request.method == "POST":
        try:
            preferences.save(session, principal.user_id, _form_changes(request.form), now=utcnow())
        except (preferences.PreferencesError, ValueError) as error:
            session.rollback()
            flash(_("Not saved: %(reason)s", reason=str(error)), "conflict")
        else:
            session.commit()
            flash(_("Notification settings saved."), "success")
            return redirect(url_for("web.notification_preferences"))
    return render_template("notification_preferences.html", prefs=preferences.load(session, principal.user_id),
                           rules=_rules_for(set(principal.roles.values())))


def _rules_for(roles: set[str]) -> list[dict]:
    """What the rules file tells people of these roles, in the page's language, with the
    placeholders said in words and the numbers the file sets."""
    language, rows = page_language(), []
    for rule in notification_rules().rules.values():
        if not rule.roles & roles:
            continue
        settings = rule.settings
        words = {"title": _("the task title"), "area": _("the admin area"), "project": _("the Kobo project"),
                 "priority": "/".join(settings.get("priorities", ())), "hours": settings.get("hours_before", ""),
                 "phase": settings.get("min_phase", ""), "count": settings.get("threshold", "")}
        rows.append({"subject": rule.subject_in(language, words), "urgent": rule.priority == "urgent",
                     "email": "email" in rule.channels})
    return rows


def _form_changes(form) -> dict:
    def number(name):
        value = (form.get(name) or "").strip()
        return float(value) if value else None

    quiet_start = (form.get("quiet_start") or "").strip() or None
    quiet_end = (form.get("quiet_end") or "").strip() or None
    return {
        "in_app": form.get("in_app") == "on", "email": form.get("email") == "on",
        "delivery": form.get("delivery", "immediate"), "digest_hour": int(form.get("digest_hour") or 7),
        "quiet_start": quiet_start, "quiet_end": quiet_end,
        "timezone": (form.get("timezone") or "UTC").strip(),
        "areas": [code.strip() for code in (form.get("areas") or "").replace(";", ",").split(",") if code.strip()],
        "near_lon": number("near_lon"), "near_lat": number("near_lat"), "radius_km": number("radius_km"),
    }
