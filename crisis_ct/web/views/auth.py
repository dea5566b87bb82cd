"""Sign in, sign out, and the language switch."""
from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from crisis_ct.accounts.audit import Actor, record
from crisis_ct.accounts.auth import current_principal
from crisis_ct.accounts.models import User
from crisis_ct.accounts.operations import AccountError, check_password, find_user
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.i18n import SESSION_KEY as LANGUAGE_KEY, SUPPORTED_LANGUAGES
from crisis_ct.web.security import safe_next
from crisis_ct.web_db import db_session

# Checked when the email is unknown, so a failed login takes as long either way
# and its timing does not tell whether the account exists.
_DUMMY_HASH = generate_password_hash("not a password of anyone")
WEB_ACTOR = Actor.system("web")


def _find_active_user(email: str) -> User | None:
    try:
        user = find_user(db_session(), email)
    except AccountError:
        return None
    return user if user is not None and user.is_active else None


def _restart_session(user_id: int) -> None:
    """A fresh session on sign-in; only the language choice survives it."""
    language = session.get(LANGUAGE_KEY)
    session.clear()
    session["user_id"] = user_id
    if language:
        session[LANGUAGE_KEY] = language


def _default_page() -> str:
    return url_for("web.map_page")


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"), _default_page())
    if request.method == "GET":
        if current_principal() is not None:
            return redirect(next_url)
        return render_template("login.html", next_url=next_url, email="")
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    user = _find_active_user(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        ok = False
    else:
        ok = check_password(user, password)
    database = db_session()
    if not ok:
        record(database, WEB_ACTOR, "login.failed", details={"email": email.lower()[:254]})
        database.commit()
        error = _("Wrong email or password.")
        return render_template("login.html", next_url=next_url, email=email, error=error), 401
    record(database, Actor(user.id, user.email), "login", target_type="user", target_id=user.id)
    database.commit()
    _restart_session(user.id)
    return redirect(next_url)


@blueprint.post("/logout")
def logout():
    principal = current_principal()
    if principal is not None:
        database = db_session()
        record(database, principal.actor, "logout", target_type="user", target_id=principal.user_id)
        database.commit()
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language:
        session[LANGUAGE_KEY] = language
    return redirect(url_for("web.login"))


@blueprint.post("/language")
def set_language():
    language = request.form.get("lang", "")
    if language in SUPPORTED_LANGUAGES:
        session[LANGUAGE_KEY] = language
    return redirect(safe_next(request.form.get("next"), _default_page()))
