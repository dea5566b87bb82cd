"""Sign in, sign out, and the language switch."""
from __future__ import annotations

import math

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from crisis_ct.accounts.audit import Actor, record
from crisis_ct.accounts import login_throttle, people, web_sessions
from crisis_ct.accounts.auth import SESSION_ID_KEY, current_principal, login_policy
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


def _restart_session(session_id: str) -> None:
    """A fresh cookie session on sign-in; only the language choice survives it."""
    language = session.get(LANGUAGE_KEY)
    session.clear()
    session[SESSION_ID_KEY] = session_id
    if language:
        session[LANGUAGE_KEY] = language


def _default_page() -> str:
    return url_for("web.map_page")


def _take_slots(database, email: str, now) -> tuple[list[login_throttle.Slot], str | None]:
    """Counts this attempt for the client and the email, committed before any password is
    looked at; returns the slots taken and, when one is past its limit, the refusal."""
    client = login_throttle.take_slot(database, login_throttle.client_counter(request.remote_addr), now=now,
                                      policy=login_policy(per_client=True))
    slots = [client]
    if client.allowed:
        slots.append(login_throttle.take_slot(database, login_throttle.email_counter(email), now=now,
                                              policy=login_policy()))
    database.commit()
    refused = next((slot for slot in slots if not slot.allowed), None)
    if refused is None:
        return slots, None
    minutes = max(1, math.ceil((refused.locked_until - now).total_seconds() / 60))
    if refused is client:
        return slots, _("Too many failed sign-ins from this network. Try again in %(minutes)d minutes.",
                        minutes=minutes)
    return slots, _("Too many failed sign-ins with this email. Try again in %(minutes)d minutes.", minutes=minutes)


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
    now = utcnow()
    slots, refusal = _take_slots(database, email, now)
    if refusal:
        # Refused before the password is looked at, known email or not: the answer tells a
        # guesser nothing, and further guesses cost nothing here.
        record(database, WEB_ACTOR, login_throttle.THROTTLED, target_type=login_throttle.TARGET_TYPE,
               target_id=login_throttle.email_key(email), details={"client": request.remote_addr})
        database.commit()
        return render_template("login.html", next_url=next_url, email=email, error=refusal), 429
    user = _find_active_user(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        ok = False
    else:
        ok = check_password(user, password)
    if not ok:
        record(database, WEB_ACTOR, login_throttle.FAILED, target_type=login_throttle.TARGET_TYPE,
               target_id=login_throttle.email_key(email),
               details={"email": email.lower()[:254], "client": request.remote_addr})
        database.commit()
        error = _("Wrong email or password.")
        return render_template("login.html", next_url=next_url, email=email, error=error), 401
    for slot in slots:
        login_throttle.give_back(database, slot)
    session_id = web_sessions.start_session(database, user.id, now=now)
    record(database, Actor(user.id, user.email), "login", target_type="user", target_id=user.id)
    database.commit()
    _restart_session(session_id)
    return redirect(next_url)


@blueprint.post("/logout")
def logout():
    principal = current_principal()
    database = db_session()
    # Ended on the server: a copy of this cookie signs nobody in any more.
    web_sessions.end_session(database, session.get(SESSION_ID_KEY), now=utcnow())
    if principal is not None:
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
        principal = current_principal()
        if principal is not None and principal.preferred_language != language:
            # Signed in, the choice is theirs from now on, in every browser.
            database = db_session()
            people.set_profile(database, principal.actor, principal.email, preferred_language=language)
            database.commit()
    return redirect(safe_next(request.form.get("next"), _default_page()))
