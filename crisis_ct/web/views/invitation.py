"""The invitation link: the invited person sets their own password, then signs in. Open
without signing in; the link's token is the only key, and works once within its validity."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crisis_ct.accounts import invitations
from crisis_ct.accounts.models import User
from crisis_ct.accounts.operations import MIN_PASSWORD_LENGTH, AccountError
from crisis_ct.timeutil import utcnow
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web_db import db_session


@blueprint.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    session = db_session()
    invitation = invitations.open_invitation(session, token, now=utcnow())
    if invitation is None:
        abort(404)
    person = session.get(User, invitation.user_id)
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("password_again", ""):
            error = _("The two passwords are not the same.")
        elif len(password) < MIN_PASSWORD_LENGTH:
            error = _("A password needs at least %(count)d characters.", count=MIN_PASSWORD_LENGTH)
        else:
            try:
                invitations.accept(session, token, password, now=utcnow())
            except AccountError:
                session.rollback()
                abort(404)
            session.commit()
            flash(_("Your password is set. Sign in with your email and it."), "success")
            return redirect(url_for("web.login"))
    status = 422 if error else 200
    return render_template("invitation.html", person=person, error=error, min_length=MIN_PASSWORD_LENGTH), status
