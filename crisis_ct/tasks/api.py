"""The task API: list and read tasks, and move them through their life.

Errors: another operation's task is 404 (nothing leaks), a role that may not take the action
is 403, a lost race or a wrong state is 409 with details {status, holder, expires_at}.
Comments are free text returned as JSON strings; whoever renders them must escape them.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify
from flask_smorest import Blueprint

from crisis_ct.accounts.audit import Actor
from crisis_ct.accounts.auth import require_principal, requires, scoped_operation_ids
from crisis_ct.accounts.models import Membership, ROLE_RANK, User
from crisis_ct.accounts.principal import Principal
from crisis_ct.db import committed_retrying_once
from crisis_ct.errors import ApiError
from crisis_ct.projection.audience import sees_site_level, split_by_audience
from crisis_ct.tasks import claims, client_requests, queries, task_sites
from crisis_ct.tasks.claims import Acting, TaskActionError
from crisis_ct.tasks.models import MitigationTask
from crisis_ct.tasks.schemas import COMMENT_HELP, AssignBody, CommentBody, NoteBody, TasksQuery
from crisis_ct.tasks.service import catalogues
from crisis_ct.timeutil import utcnow
from crisis_ct.web_db import db_session, on_warm_up

blueprint = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description=(
    "Mitigation tasks generated from risk scores, and their claims. " + COMMENT_HELP))


@blueprint.get("")
@requires("viewer")
@blueprint.arguments(TasksQuery, location="query", as_kwargs=True)
@blueprint.response(200, description="Tasks, paged: {total, limit, offset, items}")
def list_tasks(operation=None, limit=100, offset=0, language=None, **filters):
    principal = require_principal()
    operation_ids = scoped_operation_ids(principal, operation)
    languages = tuple(principal.languages) if language == "mine" else ((language,) if language else ())
    catalogue, _ = catalogues()
    _, admin_level_only = split_by_audience(principal, operation_ids)
    total, items = queries.list_tasks(db_session(), operation_ids, queries.TaskFilters(languages=languages, **filters),
                                      priorities=list(catalogue.priorities), now=utcnow(), limit=limit,
                                      offset=offset, admin_level_only=admin_level_only)
    items = [queries.as_seen_by(principal, item) for item in items]
    return jsonify({"total": total, "limit": limit, "offset": offset, "items": items})


@blueprint.get("/<int:task_id>")
@requires("viewer")
@blueprint.response(200, description="One task with its history")
def get_task(task_id: int):
    principal = require_principal()
    task = _visible_task(principal, task_id)
    if not sees_site_level(principal, task.operation_id) and not queries.partner_may_see(db_session(), task):
        raise ApiError(403, "forbidden", "Site-level tasks are for the operation's experts and coordinators.")
    return jsonify(queries.as_seen_by(principal, queries.one_task_json(db_session(), task.id, now=utcnow())))


# --- expert actions ---------------------------------------------------------------------------

@blueprint.post("/<int:task_id>/claim")
@requires("expert")
@blueprint.arguments(CommentBody, required=False)
@blueprint.response(200, description="The claimed task")
def claim_task(body=None, task_id: int = 0):
    principal = require_principal()
    session, now = db_session(), utcnow()
    # Most claims are of an open task the expert may take: one UPDATE decides and answers.
    # Anything else (unknown task, refusal, lapsed claim, lost race, claim limit) falls
    # through to the full path below, which explains itself exactly as before.
    row = committed_retrying_once(session, lambda: claims.claim_open_task(
        session, task_id, _acting(principal, "expert"), operation_ids=principal.operation_ids("expert"), now=now,
        terms=claim_terms(), max_active=current_app.config["MAX_ACTIVE_CLAIMS"], comment=_comment(body),
        returning=queries.returned_columns(), commit=True))
    if row is not None:
        item = queries.returned_task_json(row, now=now)
        task_sites.attach_sites(session, [item])  # a query for area tasks only
        return jsonify(item)
    principal, task, now = _expert_context(task_id)
    return _run(lambda who: claims.claim(db_session(), task, who, now=now, hours=claim_hours(task),
                                         max_active=current_app.config["MAX_ACTIVE_CLAIMS"],
                                         comment=_comment(body)), _acting(principal, "expert"), task, now)


@blueprint.post("/<int:task_id>/renew")
@requires("expert")
@blueprint.arguments(CommentBody, required=False)
@blueprint.response(200, description="The task with its claim extended")
def renew_task(body=None, task_id: int = 0):
    principal, task, now = _expert_context(task_id)
    return _run(lambda who: claims.renew(db_session(), task, who, now=now, hours=claim_hours(task),
                                         comment=_comment(body)), _acting(principal, "expert"), task, now)


@blueprint.post("/<int:task_id>/progress")
@requires("expert")
@blueprint.arguments(NoteBody, required=False)
@blueprint.response(200, description="The task, in progress (with client_id: applied once per id)")
def progress_task(body=None, task_id: int = 0):
    return _noted(require_principal(), task_id, "progress", body)


@blueprint.post("/<int:task_id>/complete")
@requires("expert")
@blueprint.arguments(NoteBody, required=False)
@blueprint.response(200, description="The task, done and awaiting verification (with client_id: applied once)")
def complete_task(body=None, task_id: int = 0):
    return _noted(require_principal(), task_id, "complete", body)


_NOTE_STEPS = {"progress": claims.progress, "complete": claims.complete}


def _noted(principal: Principal, task_id: int, action: str, body):
    applied = apply_note(principal, task_id, action, comment=_comment(body), client_id=(body or {}).get("client_id"))
    response = jsonify(applied.body)
    if applied.repeated:
        response.headers[REPEAT_HEADER] = "true"
    return response


REPEAT_HEADER = "X-Client-Id-Repeat"


def apply_note(principal: Principal, task_id: int, action: str, *, comment: str | None,
               client_id=None) -> client_requests.Applied:
    """A progress note or completion by the task's holder; with `client_id`, applied once per
    id (crisis_ct.tasks.client_requests). Raises ApiError (404, 403, 409 with the reason);
    the /my page's sync calls it too."""
    principal, task, now = _expert_context(task_id, principal)
    session, who = db_session(), _acting(principal, "expert")

    def step() -> dict:
        _NOTE_STEPS[action](session, task, who, now=now, comment=comment)
        return queries.one_task_json(session, task.id, now=now, with_history=False, task=task)

    def work() -> client_requests.Applied:
        if client_id is None:
            return client_requests.Applied(step(), repeated=False)
        return client_requests.apply_once(session, client_id=client_id, user_id=principal.user_id,
                                          task_id=task.id, action=action, now=now, run=step)
    try:
        applied = committed_retrying_once(session, work)
    except TaskActionError as exc:
        session.rollback()
        raise ApiError(exc.status, exc.code, exc.message, exc.details) from exc
    return applied


@blueprint.post("/<int:task_id>/release")
@requires("expert")
@blueprint.arguments(CommentBody, required=False)
@blueprint.response(200, description="The task, open again")
def release_task(body=None, task_id: int = 0):
    """The holder releases their claim; a coordinator may release anyone's."""
    principal, task, now = _expert_context(task_id)
    is_holder = claims.holds(task, principal.user_id, now)
    role = "expert" if is_holder or not principal.has_role(task.operation_id, "coordinator") else \
        principal.role_in(task.operation_id)
    return _run(lambda who: claims.release(db_session(), task, who, now=now, comment=_comment(body)),
                _acting(principal, role), task, now)


# --- coordinator actions ----------------------------------------------------------------------

@blueprint.post("/<int:task_id>/assign")
@requires("coordinator")
@blueprint.arguments(AssignBody)
@blueprint.response(200, description="The task, claimed by the assignee")
def assign_task(body, task_id: int):
    principal, task, now = _coordinator_context(task_id)
    session = db_session()
    assignee = session.scalar(
        sa.select(User).join(Membership, Membership.user_id == User.id)
        .where(User.email == body["email"].strip().lower(), User.is_active,
               Membership.operation_id == task.operation_id,
               Membership.role.in_([r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK["expert"]])))
    if assignee is None:
        raise ApiError(422, "invalid", "No expert with that email in this task's operation.",
                       {"fields": {"email": ["not an expert of this operation"]}})
    hours = body.get("expires_hours") or claim_hours(task)
    return _run(lambda who: claims.assign(session, task, who, assignee=assignee, now=now, hours=hours,
                                          max_active=current_app.config["MAX_ACTIVE_CLAIMS"],
                                          comment=_comment(body)), _acting(principal), task, now)


@blueprint.post("/<int:task_id>/verify")
@requires("coordinator")
@blueprint.arguments(CommentBody, required=False)
@blueprint.response(200, description="The task, verified")
def verify_task(body=None, task_id: int = 0):
    principal, task, now = _coordinator_context(task_id)
    return _run(lambda who: claims.verify(db_session(), task, who, now=now, comment=_comment(body)),
                _acting(principal), task, now)


@blueprint.post("/<int:task_id>/reject")
@requires("coordinator")
@blueprint.arguments(CommentBody, required=False)
@blueprint.response(200, description="The task, open again after its work was rejected")
def reject_task(body=None, task_id: int = 0):
    principal, task, now = _coordinator_context(task_id)
    return _run(lambda who: claims.reject(db_session(), task, who, now=now, comment=_comment(body)),
                _acting(principal), task, now)


@blueprint.post("/<int:task_id>/cancel")
@requires("coordinator")
@blueprint.arguments(CommentBody, required=False)
@blueprint.response(200, description="The task, cancelled")
def cancel_task(body=None, task_id: int = 0):
    principal, task, now = _coordinator_context(task_id)
    return _run(lambda who: claims.cancel(db_session(), task, who, now=now, comment=_comment(body)),
                _acting(principal), task, now)


# --- helpers ----------------------------------------------------------------------------------

def _visible_task(principal: Principal, task_id: int) -> MitigationTask:
    task = db_session().get(MitigationTask, task_id)
    if task is None or not principal.has_role(task.operation_id, "viewer"):
        raise ApiError(404, "not_found", f"No task {task_id}.")
    return task


def _expert_context(task_id: int, principal: Principal | None = None):
    principal = principal or require_principal()
    task = _visible_task(principal, task_id)
    if not principal.has_role(task.operation_id, "expert"):
        raise ApiError(403, "forbidden", "Only experts of this task's operation may do this.")
    return principal, task, utcnow()


def _coordinator_context(task_id: int):
    principal = require_principal()
    task = _visible_task(principal, task_id)
    if not principal.has_role(task.operation_id, "coordinator"):
        raise ApiError(403, "forbidden", "Only coordinators of this task's operation may do this.")
    return principal, task, utcnow()


def _acting(principal: Principal, role: str | None = None) -> Acting:
    return Acting(principal.actor, role or "coordinator", tuple(principal.expertise))


def _run(action, who: Acting, task: MitigationTask, now):
    session = db_session()
    try:
        committed_retrying_once(session, lambda: action(who))
    except TaskActionError as exc:
        session.rollback()
        raise ApiError(exc.status, exc.code, exc.message, exc.details) from exc
    # The task was reloaded from the UPDATE's RETURNING: only its place and holder are read.
    return jsonify(queries.one_task_json(session, task.id, now=now, with_history=False, task=task))


def claim_hours(task: MitigationTask) -> int:
    """Hours a claim on this task lasts: the app's TASK_CLAIM_HOURS override, else the
    priority's claim_hours from forms/mitigation_rules.yaml. The web pages use it too."""
    return claim_terms().hours(task.priority)


@on_warm_up
def _warm_claim(session) -> None:
    # Matches nothing (no task 0, no operation 0, a limit of 0): compiles and plans the claim.
    claims.claim_open_task(session, 0, Acting(Actor(0, "warm-up"), "expert", ("-",)), operation_ids=[0],
                           now=utcnow(), terms=claim_terms(), max_active=0, returning=queries.returned_columns())


def claim_terms() -> claims.ClaimTerms:
    """claim_hours for every priority at once, for a claim decided before its task is read."""
    overrides = current_app.config.get("TASK_CLAIM_HOURS") or {}
    catalogue, _ = catalogues()
    hours = {code: priority.claim_hours for code, priority in catalogue.priorities.items()}
    hours.update({code: int(value) for code, value in overrides.items()})
    return claims.ClaimTerms(hours, max(p.claim_hours for p in catalogue.priorities.values()))


def _comment(body) -> str | None:
    return (body or {}).get("comment")
