"""The task board (/tasks), one task with its history (/tasks/<id>), and the task
actions as plain HTML forms: GET shows the action's form, POST runs it through
crisis_ct.tasks.claims and redirects back with a message."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from crisis_ct.projection.audience import sees_site_level, split_by_audience
from crisis_ct.schemas import DB_INT_MAX
from crisis_ct.tasks import queries
from crisis_ct.tasks.api import claim_hours
from crisis_ct.tasks.claims import holds
from crisis_ct.tasks.history import MAX_COMMENT_LENGTH
from crisis_ct.tasks.models import MitigationTask
from crisis_ct.tasks.service import catalogues
from crisis_ct.timeutil import utcnow
from crisis_ct.web import task_data
from crisis_ct.web.access import page_principal, page_requires
from crisis_ct.web.blueprint import blueprint
from crisis_ct.web.risk_view import paginate
from crisis_ct.web.security import safe_next
from crisis_ct.web.task_actions import ActionRequest, run_action
from crisis_ct.web.task_board import (ACTIONS, BoardFilters, Capacity, FILTER_STATUSES, LANGUAGE_CHOICES,
                                      acting_role, available_actions)
from crisis_ct.web_db import db_session

SECTION_SIZE = 10  # per status when the board shows every section
PAGE_SIZE = 50  # when one status is chosen


def _capacities(principal) -> dict[str, Capacity]:
    """Operation code -> what this person may do there (task JSON names the operation by code)."""
    return {code: Capacity(expert=principal.has_role(op_id, "expert"),
                           coordinator=principal.has_role(op_id, "coordinator"), user_id=principal.user_id)
            for op_id, code in principal.operation_codes.items()}


def _with_actions(items: list[dict], capacities: dict[str, Capacity]) -> list[dict]:
    none = Capacity(False, False, None)
    return [{**item, "actions": available_actions(item, capacities.get(item["operation"], none))} for item in items]


def _board_filters() -> BoardFilters:
    mitigation, _ = catalogues()
    return BoardFilters.from_args(request.args, priorities=list(mitigation.priorities),
                                  expertise=list(mitigation.expertise))


@blueprint.get("/tasks")
@page_requires("viewer")
def tasks():
    principal = page_principal()
    operation_ids = principal.operation_ids("viewer")
    session = db_session()
    mitigation, _ = catalogues()
    filters = _board_filters()
    location = task_data.site_location(session, operation_ids, filters.near_site) if filters.near_site else None
    now = utcnow()
    capacities = _capacities(principal)
    sections = []
    page = None
    for status in filters.shown_statuses:
        query_filters = filters.task_filters(user_languages=principal.languages, site_location=location,
                                             status=status)
        if filters.status:
            # One status: paged. The total comes with the first query, so a page past the end
            # asks once more for the last page that exists.
            wanted = _page_number()
            total, items = _list(session, operation_ids, query_filters, now, PAGE_SIZE, (wanted - 1) * PAGE_SIZE)
            page = paginate(range(total), wanted, PAGE_SIZE)
            if page.number != wanted:
                total, items = _list(session, operation_ids, query_filters, now, PAGE_SIZE,
                                     (page.number - 1) * PAGE_SIZE)
        else:
            total, items = _list(session, operation_ids, query_filters, now, SECTION_SIZE, 0)
        sections.append({"status": status, "total": total, "items": _with_actions(items, capacities)})
    return render_template(
        "tasks.html", filters=filters, sections=sections, page=page, now=now,
        choices={"statuses": FILTER_STATUSES, "priorities": list(mitigation.priorities),
                 "expertise": list(mitigation.expertise), "languages": LANGUAGE_CHOICES,
                 # "Near this site" finds site tasks, which only experts and above see.
                 "sites": task_data.site_choices(session, split_by_audience(principal, operation_ids)[0])},
        near_site_unknown=bool(filters.near_site) and location is None)


def _page_number() -> int:
    """The page asked for; past the database's range it is the last page there can be (the
    board then shows the last page that exists)."""
    try:
        wanted = int(request.args.get("page", 1))
    except ValueError:
        return 1
    return min(max(1, wanted), DB_INT_MAX // PAGE_SIZE)


def _list(session, operation_ids, query_filters, now, limit: int, offset: int):
    mitigation, _ = catalogues()
    principal = page_principal()
    _, admin_level_only = split_by_audience(principal, operation_ids)
    total, items = queries.list_tasks(session, operation_ids, query_filters, priorities=list(mitigation.priorities),
                                      now=now, limit=limit, offset=offset, admin_level_only=admin_level_only)
    return total, [queries.as_seen_by(principal, item) for item in items]


def _visible_task(task_id: int) -> MitigationTask:
    """Another operation's task is a 404, as in the API: nothing leaks; a task a viewer may
    not see (site-level, or of an area with too few assessed sites) is the 403 page."""
    task = db_session().get(MitigationTask, task_id)
    principal = page_principal()
    if task is None or not principal.has_role(task.operation_id, "viewer"):
        abort(404)
    if not sees_site_level(principal, task.operation_id) and not queries.partner_may_see(db_session(), task):
        abort(403)
    return task


@blueprint.get("/tasks/<int:task_id>")
@page_requires("viewer")
def task_detail(task_id: int):
    task = _visible_task(task_id)
    principal = page_principal()
    item = queries.as_seen_by(principal, queries.one_task_json(db_session(), task.id, now=utcnow()))
    item["actions"] = available_actions(item, _capacities(principal).get(item["operation"], Capacity(False, False, None)))
    return render_template("task.html", task=item, now=utcnow(), max_comment=MAX_COMMENT_LENGTH,
                           experts=_assignable(task, item["actions"]), back=_back_url(task.id))


def _assignable(task: MitigationTask, actions) -> list:
    return task_data.experts_of_operation(db_session(), task.operation_id) if "assign" in actions else []


def _back_url(task_id: int) -> str:
    return safe_next(request.values.get("next"), url_for("web.task_detail", task_id=task_id))


def _role_for(task: MitigationTask, action: str) -> str:
    """The capacity the person acts in; the 403 page when they have none."""
    if action not in ACTIONS:
        abort(404)
    principal = page_principal()
    role = acting_role(action, is_holder=holds(task, principal.user_id, utcnow()),
                       expert=principal.has_role(task.operation_id, "expert"),
                       coordinator=principal.has_role(task.operation_id, "coordinator"))
    if role is None:
        abort(403)
    return role


@blueprint.get("/tasks/<int:task_id>/<action>")
@page_requires("viewer")
def task_action_form(task_id: int, action: str):
    task = _visible_task(task_id)
    _role_for(task, action)
    item = queries.as_seen_by(page_principal(), queries.one_task_json(db_session(), task.id, now=utcnow(),
                                                                      with_history=False))
    experts = task_data.experts_of_operation(db_session(), task.operation_id) if action == "assign" else []
    return render_template("task_action.html", task=item, action=action, experts=experts,
                           max_comment=MAX_COMMENT_LENGTH, back=_back_url(task.id), now=utcnow())


@blueprint.post("/tasks/<int:task_id>/<action>")
@page_requires("viewer")
def task_action(task_id: int, action: str):
    task = _visible_task(task_id)
    role = _role_for(task, action)
    session = db_session()
    assignee = None
    if action == "assign":
        assignee = task_data.find_expert(session, task.operation_id, request.form.get("assignee"))
        if assignee is None:
            abort(400)
    comment = request.form.get("comment", "").strip()[:MAX_COMMENT_LENGTH] or None
    outcome = run_action(session, task, page_principal(), ActionRequest(
        action=action, role=role, comment=comment, assignee=assignee, claim_hours=claim_hours(task),
        max_active=current_app.config["MAX_ACTIVE_CLAIMS"]), now=utcnow())
    flash(outcome.message, "success" if outcome.ok else "conflict")
    return redirect(_back_url(task.id), code=303)

