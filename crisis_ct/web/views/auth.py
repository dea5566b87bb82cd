"""Sign in, sign out, and the language switch."""
from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from crisis_ct.accounts.audit import Actor, record
from crisis_ct.accounts import login_throttle
from crisis_ct.accounts.auth import current_principal
from crisis_ct.accounts.models import User
from crisis_ct.accounts.operations import AccountError, check_password, find_user
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.i18n import SESSION_KEY as LANGUAGE_KEY, SUPPORTED_LANGUAGES
from crisis_ct.timeutil import utcnow
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
    database = db_session()
    wait_minutes = _locked_minutes(database, email)
    if wait_minutes:
        # Refused before the password is looked at, known email or not: the answer tells a
        # guesser nothing, and further guesses cost nothing here.
        record(database, WEB_ACTOR, login_throttle.THROTTLED, target_type=login_throttle.TARGET_TYPE,
               target_id=login_throttle.email_key(email))
        database.commit()
        error = _("Too many failed sign-ins with this email. Try again in %(minutes)d minutes.", minutes=wait_minutes)
        return render_template("login.html", next_url=next_url, email=email, error=error), 429
    user = _find_active_user(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        ok = False
    else:
        ok = check_password(user, password)
    if not ok:
        record(database, WEB_ACTOR, login_throttle.FAILED, target_type=login_throttle.TARGET_TYPE,
               target_id=login_throttle.email_key(email), details={"email": email.lower()[:254]})
        database.commit()
        error = _("Wrong email or password.")
        return render_template("login.html", next_url=next_url, email=email, error=error), 401
    record(database, Actor(user.id, user.email), "login", target_type="user", target_id=user.id)
    database.commit()
    _restart_session(user.id)
    return redirect(next_url)


def _locked_minutes(database, email: str) -> int:
    """Minutes until this email may try again, 0 when it may now."""
    policy = login_throttle.LoginPolicy(max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                                        window=timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]))
    now = utcnow()
    failures = login_throttle.recent_failures(database, email, now=now, policy=policy)
    until = login_throttle.locked_until(failures, now=now, policy=policy)
    return 0 if until is None else max(1, math.ceil((until - now).total_seconds() / 60))


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
