"""Operations for admins: the list, and a new operation with its first coordinator, who is
invited as on the people page (crisis_ct.accounts.invitations)."""
from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crisis_ct.accounts import invitations, people
from crisis_ct.accounts.operations import AccountError
from crisis_ct.geography.operations import OperationError, create_operation, list_operations
from crisis_ct.timeutil import utcnow
from crisis_ct.web.access import page_principal, page_requires
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.views.people import after_invitation, tags
from crisis_ct.web_db import db_session

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
ISO3_PATTERN = re.compile(r"^[A-Za-z]{3}$")


@blueprint.get("/admin/operations")
@page_requires("admin")
def operations_page():
    return render_template("operations.html", operations=list_operations(db_session()), form={})


def _form_problem(form) -> str | None:
    if not CODE_PATTERN.match(form.get("code", "")):
        return _("The code is 2 to 32 lower-case letters, digits, - or _, e.g. sdn-2026.")
    if not form.get("name", "").strip():
        return _("The operation needs a name.")
    if not ISO3_PATTERN.match(form.get("country", "")):
        return _("The country is a three-letter ISO code, e.g. SDN.")
    return None


@blueprint.post("/admin/operations")
@page_requires("admin")
def create_operation_page():
    principal, session, form = page_principal(), db_session(), request.form
    problem = _form_problem(form)
    if problem is None:
        code = form["code"]
        try:
            create_operation(session, principal.actor, code, form["name"].strip()[:200], form["country"],
                             tags(form.get("languages", "")) or ["en", "fr"])
            # The admin who creates it can open and manage it.
            people.add_role(session, principal.actor, principal.email, role="admin", operation_code=code,
                            password=None)
            invited = invitations.invite(session, principal.actor, form.get("coordinator_email", ""),
                                         operation_code=code, role="coordinator", now=utcnow())
        except (AccountError, OperationError) as error:
            session.rollback()
            problem = str(error)
    if problem is not None:
        flash(_("Not created: %(reason)s", reason=problem), "conflict")
        return render_template("operations.html", operations=list_operations(session), form=form), 422
    session.commit()
    return after_invitation(code, invited)
