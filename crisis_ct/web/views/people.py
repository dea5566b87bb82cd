"""The people of an operation, for its coordinators (and admins): who they are, inviting
someone by email, their role (never above the coordinator's own), expertise, languages,
organisation, and deactivating them. The account changes are crisis_ct.accounts.people and
crisis_ct.accounts.invitations; this module parses, authorizes and shows."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, gettext as _

from crisis_ct.accounts import invitations, people
from crisis_ct.accounts.models import ROLE_RANK, Membership, User
from crisis_ct.accounts.operations import AccountError
from crisis_ct.accounts.principal import Principal
from crisis_ct.mail import send_mail
from crisis_ct.tasks.service import catalogues
from crisis_ct.timeutil import utcnow
from crisis_ct.web.access import page_principal, page_requires
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web_db import db_session


def _managed_operations(principal: Principal) -> dict[str, int]:
    """Operation code -> id, for the operations whose people this person manages."""
    return {principal.operation_codes[op_id]: op_id for op_id in principal.operation_ids("coordinator")}


def _operation_id(code: str) -> int:
    """Another operation is a 404, as everywhere: nothing leaks."""
    operation_id = _managed_operations(page_principal()).get(code)
    if operation_id is None:
        abort(404)
    return operation_id


def _member(operation_id: int, user_id: int) -> tuple[User, str]:
    """The person and their role in the operation; 403 when their role is above the manager's."""
    row = db_session().execute(
        sa.select(User, Membership.role).join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.operation_id == operation_id)).first()
    if row is None:
        abort(404)
    principal = page_principal()
    if ROLE_RANK.get(row.role, 0) > ROLE_RANK[principal.role_in(operation_id)]:
        abort(403)
    return row.User, row.role


LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.replace(";", ",").split(",") if tag.strip()]


def _languages() -> list[str]:
    """Language codes (ISO 639: en, fr, ar …) from the form; anything else is left out."""
    return [code for code in (tag.lower() for tag in tags(request.form.get("languages", "")))
            if LANGUAGE_CODE.match(code)]


def _expertise() -> list[str]:
    """Only the catalogue's expertise tags (forms/mitigation_rules.yaml): tasks match on them."""
    known = catalogues()[0].expertise
    return [tag for tag in request.form.getlist("expertise") if tag in known]


def _form_choices(operation_id: int) -> dict:
    mitigation, _scales = catalogues()
    return {"roles": page_principal().grantable_roles(operation_id), "expertise": list(mitigation.expertise)}


def _chosen_role(operation_id: int) -> str:
    role = request.form.get("role", "")
    if role not in page_principal().grantable_roles(operation_id):
        abort(403)
    return role


@blueprint.get("/people")
@page_requires("coordinator")
def people_list():
    managed = _managed_operations(page_principal())
    code = request.args.get("operation") or min(managed)
    operation_id = _operation_id(code)
    session = db_session()
    members = people.list_people(session, code)
    accounts = {row.email: row for row in session.execute(
        sa.select(User.email, User.id, User.password_hash.is_(None).label("no_password"))
        .where(User.email.in_([m.email for m in members])))}
    pending = invitations.pending_user_ids(session, [row.id for row in accounts.values()], now=utcnow())
    rows = [{"person": member, "id": accounts[member.email].id, "role": member.roles.get(code),
             "state": _state(member.is_active, accounts[member.email].no_password,
                             accounts[member.email].id in pending)} for member in members]
    return render_template("people.html", rows=rows, operation=code, operations=sorted(managed),
                           choices=_form_choices(operation_id))


def _state(is_active: bool, no_password: bool, link_open: bool) -> str:
    if not is_active:
        return "deactivated"
    if no_password:
        return "invited" if link_open else "link_expired"
    return "active"


@blueprint.post("/people/<operation>/invite")
@page_requires("coordinator")
def invite_person(operation: str):
    operation_id = _operation_id(operation)
    principal, session = page_principal(), db_session()
    current = session.scalar(sa.select(Membership.role).join(User, User.id == Membership.user_id).where(
        User.email == request.form.get("email", "").strip().lower(), Membership.operation_id == operation_id))
    if current is not None and ROLE_RANK.get(current, 0) > ROLE_RANK[principal.role_in(operation_id)]:
        abort(403)  # inviting again would change the role of someone above the inviter
    try:
        invited = invitations.invite(
            session, principal.actor, request.form.get("email", ""), operation_code=operation,
            role=_chosen_role(operation_id), now=utcnow(), display_name=request.form.get("display_name") or None,
            organisation=request.form.get("organisation") or None, expertise=_expertise(),
            languages=_languages() or None)
    except AccountError as error:
        session.rollback()
        flash(_("Not invited: %(reason)s", reason=str(error)), "conflict")
        return redirect(url_for("web.people_list", operation=operation))
    session.commit()
    return after_invitation(operation, invited)


def invitation_mail(link: str, operation: str, expires_at) -> tuple[str, str]:
    """Subject and body of an invitation, in the inviting coordinator's page language."""
    subject = _("Your crisis-ct account for %(operation)s", operation=operation)
    body = _("You have been given access to the operation %(operation)s in crisis-ct.\n\n"
             "Open this link to set your password (it works once, until %(until)s):\n%(link)s\n\n"
             "If you did not expect this, ignore this email.",
             operation=operation, until=format_datetime(expires_at, "short"), link=link)
    return subject, body


def after_invitation(operation: str, invited: invitations.Invited):
    if invited.token is None:
        flash(_("%(email)s already has an account: they now have this role in %(operation)s.",
                email=invited.user.email, operation=operation), "success")
        return redirect(url_for("web.people_list", operation=operation))
    link = url_for("web.accept_invitation", token=invited.token, _external=True)
    mailed = send_mail(current_app.config, invited.user.email, *invitation_mail(link, operation, invited.expires_at))
    # The link is shown once, in this answer only: never in a flash message (kept in the cookie).
    return render_template("invited.html", invited=invited.user, operation=operation,
                           link=None if mailed else link, expires_at=invited.expires_at)


@blueprint.get("/people/<operation>/<int:user_id>")
@page_requires("coordinator")
def person_page(operation: str, user_id: int):
    operation_id = _operation_id(operation)
    user, role = _member(operation_id, user_id)
    link_open = user.id in invitations.pending_user_ids(db_session(), [user.id], now=utcnow())
    return render_template("person.html", person=user, role=role, operation=operation,
                           state=_state(user.is_active, user.password_hash is None, link_open),
                           choices=_form_choices(operation_id))


@blueprint.post("/people/<operation>/<int:user_id>")
@page_requires("coordinator")
def update_person(operation: str, user_id: int):
    operation_id = _operation_id(operation)
    user, role = _member(operation_id, user_id)
    principal, session = page_principal(), db_session()
    new_role = _chosen_role(operation_id)
    try:
        if new_role != role:
            people.add_role(session, principal.actor, user.email, role=new_role, operation_code=operation,
                            password=None)
        people.set_profile(session, principal.actor, user.email, expertise=_expertise(), languages=_languages(),
                           organisation=request.form.get("organisation", ""), operation_code=operation)
    except AccountError as error:
        session.rollback()
        flash(_("Not saved: %(reason)s", reason=str(error)), "conflict")
    else:
        session.commit()
        flash(_("Saved."), "success")
    return redirect(url_for("web.person_page", operation=operation, user_id=user_id))


def _may_deactivate(principal: Principal, user_id: int) -> bool:
    """A whole account only by someone who manages every operation the person is in, at
    a role not below theirs; otherwise they can be removed from this operation."""
    roles = db_session().execute(sa.select(Membership.operation_id, Membership.role)
                                 .where(Membership.user_id == user_id)).all()
    return user_id != principal.user_id and all(
        principal.has_role(op_id, "coordinator")
        and ROLE_RANK.get(role, 0) <= ROLE_RANK[principal.role_in(op_id)] for op_id, role in roles)


@blueprint.post("/people/<operation>/<int:user_id>/<change>")
@page_requires("coordinator")
def change_person(operation: str, user_id: int, change: str):
    operation_id = _operation_id(operation)
    user, _role = _member(operation_id, user_id)
    principal, session = page_principal(), db_session()
    if change in ("deactivate", "reactivate") and not _may_deactivate(principal, user.id):
        abort(403)
    if change == "remove" and user.id == principal.user_id:
        abort(403)
    if change == "deactivate":
        people.disable_user(session, principal.actor, user.email, operation_code=operation)
        message = _("%(name)s is deactivated: they can no longer sign in.", name=user.display_name)
    elif change == "reactivate":
        people.enable_user(session, principal.actor, user.email, operation_code=operation)
        message = _("%(name)s can sign in again.", name=user.display_name)
    elif change == "remove":
        people.remove_role(session, principal.actor, user.email, operation)
        session.commit()
        flash(_("%(name)s no longer has a role in %(operation)s.", name=user.display_name, operation=operation),
              "success")
        return redirect(url_for("web.people_list", operation=operation))
    elif change == "new-link":
        try:
            invited = invitations.renew(session, principal.actor, user, operation_id, now=utcnow())
        except AccountError:
            abort(409)
        session.commit()
        return after_invitation(operation, invited)
    else:
        abort(404)
    session.commit()
    flash(message, "success")
    return redirect(url_for("web.person_page", operation=operation, user_id=user_id))
